# Integration tests: the real `openssl cmp` client (and noroot_client, a small
# client on OpenSSL's CMP API for what the tool cannot do) against a real
# `cmpca serve` on 127.0.0.1, one temp directory per test. Each script gets
# the cmpca binary as $1 and the noroot_client binary as $2.
add_executable(noroot_client ${CMAKE_CURRENT_LIST_DIR}/noroot_client.c)
# OSSL_CMP_* including OSSL_CMP_MSG_http_perform live in libcrypto.
target_link_libraries(noroot_client PRIVATE OpenSSL::Crypto Threads::Threads)

set(CMPCA_INTEGRATION_TESTS
    ir_basic
    ir_implicit_confirm
    ir_rejections
    http_errors
    noroot
    concurrent
    restart_certconf
    kur
    cr_p10cr
    rr_crl
    genm
    approval
    lifecycle_rejections
    certconf_reject
    profiles)

foreach(t ${CMPCA_INTEGRATION_TESTS})
    add_test(NAME integration.${t}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh
                     $<TARGET_FILE:cmpca> $<TARGET_FILE:noroot_client>)
    set_tests_properties(integration.${t} PROPERTIES
        LABELS integration
        TIMEOUT 120)
endforeach()
