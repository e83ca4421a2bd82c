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
    txn_expiry
    kur
    cr_p10cr
    rr_crl
    genm
    approval
    lifecycle_rejections
    certconf_reject
    profiles
    https
    slowloris)

foreach(t ${CMPCA_INTEGRATION_TESTS})
    add_test(NAME integration.${t}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh
                     $<TARGET_FILE:cmpca> $<TARGET_FILE:noroot_client>)
    set_tests_properties(integration.${t} PROPERTIES
        LABELS integration
        TIMEOUT 120)
endforeach()

# RA mode, MAC protection and nested messages (issue 5). nested_client
# builds the nested PKIMessage OpenSSL 3.0's client cannot send, from the
# project's ASN.1 module; the scripts get it as their third argument.
add_executable(nested_client ${CMAKE_CURRENT_LIST_DIR}/nested_client.c)
target_link_libraries(nested_client PRIVATE cmpca_asn1 OpenSSL::Crypto)
foreach(t ra mac nested)
    add_test(NAME integration.${t}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh
                     $<TARGET_FILE:cmpca> $<TARGET_FILE:noroot_client>
                     $<TARGET_FILE:nested_client>)
    set_tests_properties(integration.${t} PROPERTIES
        LABELS integration
        TIMEOUT 120
        SKIP_RETURN_CODE 77)
endforeach()

# The whole suite again on PostgreSQL (labels integration and pg): lib.sh's
# ca_init gives each script's CA a fresh database on the server of the `pg`
# fixture (tests/pg_fixture.cmake) instead of the SQLite file.
include(${CMAKE_CURRENT_LIST_DIR}/../pg_fixture.cmake)
if(CMPCA_PG_TESTS)
    foreach(t ${CMPCA_INTEGRATION_TESTS} ra mac nested)
        set(args $<TARGET_FILE:cmpca> $<TARGET_FILE:noroot_client>)
        if(t STREQUAL "ra" OR t STREQUAL "mac" OR t STREQUAL "nested")
            list(APPEND args $<TARGET_FILE:nested_client>)
        endif()
        add_test(NAME integration.${t}.pg
                 COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh ${args})
        set_tests_properties(integration.${t}.pg PROPERTIES
            ENVIRONMENT "CMPCA_TEST_DB_FILE=${CMPCA_PG_STATE}/uri"
            FIXTURES_REQUIRED pg
            LABELS "integration;pg"
            TIMEOUT 180
            SKIP_RETURN_CODE 77)
    endforeach()
endif()
