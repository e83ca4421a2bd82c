# MAC protection with shared secrets: src/cmp/mac.c (PasswordBasedMac,
# PBMAC1) against requests of the real OpenSSL client (data/mac) and
# reference MACs, and src/ca/seal.c (the sealed form the store keeps).
add_executable(test_mac ${CMAKE_CURRENT_LIST_DIR}/test_mac.c
                        ${CMAKE_CURRENT_LIST_DIR}/test_mac_der.c)
target_include_directories(test_mac PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_mac PRIVATE cmpca_cmp)
target_compile_definitions(test_mac PRIVATE
    MAC_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data/mac")
add_test(NAME unit.mac COMMAND test_mac)
add_executable(test_seal ${CMAKE_CURRENT_LIST_DIR}/test_seal.c)
target_link_libraries(test_seal PRIVATE cmpca_ca)
add_test(NAME unit.seal COMMAND test_seal)
