# unit.transport: the HTTP transport over real loopback sockets, with a raw
# client (no HTTP library) so malformed and oversized requests can be sent.
add_executable(test_transport ${CMAKE_CURRENT_LIST_DIR}/test_transport.c
                              ${CMAKE_CURRENT_LIST_DIR}/transport_client.c)
target_link_libraries(test_transport PRIVATE cmpca_transport)
add_test(NAME unit.transport COMMAND test_transport)
set_tests_properties(unit.transport PROPERTIES TIMEOUT 60)
# unit.transport_crl: GET/HEAD /crl/<name>.crl and its caching headers.
add_executable(test_transport_crl ${CMAKE_CURRENT_LIST_DIR}/test_transport_crl.c
                                  ${CMAKE_CURRENT_LIST_DIR}/transport_client.c)
target_link_libraries(test_transport_crl PRIVATE cmpca_transport)
add_test(NAME unit.transport_crl COMMAND test_transport_crl)
set_tests_properties(unit.transport_crl PROPERTIES TIMEOUT 60)
# unit.transport_tls: HTTPS (versions, plain HTTP refused, client
# certificates) and the request deadlines against slowloris.
add_executable(test_transport_tls ${CMAKE_CURRENT_LIST_DIR}/test_transport_tls.c
                                  ${CMAKE_CURRENT_LIST_DIR}/transport_client.c)
target_link_libraries(test_transport_tls PRIVATE cmpca_transport OpenSSL::SSL
                      OpenSSL::Crypto)
add_test(NAME unit.transport_tls COMMAND test_transport_tls)
set_tests_properties(unit.transport_tls PROPERTIES TIMEOUT 60)
