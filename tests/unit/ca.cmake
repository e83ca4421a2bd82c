# unit.ca: operator PKI creation/loading and issuing, judged by OpenSSL's
# path validation and by the `openssl` command-line tool.
find_program(CMPCA_OPENSSL_BIN openssl REQUIRED)
add_executable(test_ca ${CMAKE_CURRENT_LIST_DIR}/test_ca.c)
target_link_libraries(test_ca PRIVATE cmpca_ca Threads::Threads)
target_compile_definitions(test_ca PRIVATE
                           OPENSSL_BIN="${CMPCA_OPENSSL_BIN}")
add_test(NAME unit.ca COMMAND test_ca)
# unit.ca_crl: CRLs from a real store, and issuing with a CRL URL / keyUsage.
add_executable(test_ca_crl ${CMAKE_CURRENT_LIST_DIR}/test_ca_crl.c)
target_link_libraries(test_ca_crl PRIVATE cmpca_ca)
target_compile_definitions(test_ca_crl PRIVATE
                           OPENSSL_BIN="${CMPCA_OPENSSL_BIN}")
add_test(NAME unit.ca_crl COMMAND test_ca_crl)
