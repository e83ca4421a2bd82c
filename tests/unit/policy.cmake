add_executable(test_policy ${CMAKE_CURRENT_LIST_DIR}/test_policy.c)
target_link_libraries(test_policy PRIVATE cmpca_policy cmpca_ca cmpca_store cmpca_util)
add_test(NAME unit.policy COMMAND test_policy)
