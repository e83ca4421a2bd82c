# Unit test of the store room: a real SQLite file in a temp dir.
add_executable(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store PRIVATE cmpca_store Threads::Threads)
add_test(NAME unit.store COMMAND test_store)
set_tests_properties(unit.store PROPERTIES TIMEOUT 120)
