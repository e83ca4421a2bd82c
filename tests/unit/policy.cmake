add_executable(test_policy ${CMAKE_CURRENT_LIST_DIR}/test_policy.c)
target_link_libraries(test_policy PRIVATE cmpca_policy cmpca_ca cmpca_store cmpca_util)
add_test(NAME unit.policy COMMAND test_policy)

# cmpca.conf parsing, profiles included (the util room has no .cmake of its
# own: tests/CMakeLists.txt lists the areas).
add_executable(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
target_link_libraries(test_config PRIVATE cmpca_util)
add_test(NAME unit.config COMMAND test_config)

add_executable(test_profile ${CMAKE_CURRENT_LIST_DIR}/test_profile.c)
target_link_libraries(test_profile PRIVATE cmpca_policy cmpca_util)
add_test(NAME unit.profile COMMAND test_profile)
