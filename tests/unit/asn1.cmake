# asn1 room unit test: templates round trip, messages from the openssl cmp
# client (data/asn1), and the DER gate's rejections. Links cmpca_asn1 only.
add_executable(test_asn1
    ${CMAKE_CURRENT_LIST_DIR}/test_asn1.c
    ${CMAKE_CURRENT_LIST_DIR}/test_asn1_build.c
    ${CMAKE_CURRENT_LIST_DIR}/test_asn1_body.c
    ${CMAKE_CURRENT_LIST_DIR}/test_asn1_roundtrip.c
    ${CMAKE_CURRENT_LIST_DIR}/test_asn1_client.c)
target_link_libraries(test_asn1 PRIVATE cmpca_asn1)
target_compile_definitions(test_asn1 PRIVATE
    CMPCA_ASN1_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data/asn1")
add_test(NAME unit.asn1 COMMAND test_asn1)
