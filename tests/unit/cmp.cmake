# Unit tests of the cmp room, linked against cmpca_cmp and what it links.
# test_genm: genm -> genp (src/cmp/genm.c) on a temp-dir PKI and store, with
# requests from the real OpenSSL client (data/genm) and its CMP API.
add_executable(test_genm
    ${CMAKE_CURRENT_LIST_DIR}/test_genm.c
    ${CMAKE_CURRENT_LIST_DIR}/test_genm_crl.c
    ${CMAKE_CURRENT_LIST_DIR}/test_genm_client.c)
target_include_directories(test_genm PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_genm PRIVATE cmpca_cmp)
target_compile_definitions(test_genm PRIVATE
    GENM_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data/genm")
add_test(NAME unit.genm COMMAND test_genm)
