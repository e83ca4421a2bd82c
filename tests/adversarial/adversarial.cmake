# Adversarial suite (tests/adversarial, docs/adversarial.md): hostile CMP
# requests as data. adv_gen builds each request at test time from the fixed
# PKI in pki/; run.sh starts `cmpca serve`, sends the cases of one group with
# curl and checks the exact answer and that the store did not change. One
# CTest test per group; the group is the first two digits of a case number.
add_executable(adv_gen
    ${CMAKE_CURRENT_LIST_DIR}/gen.c
    ${CMAKE_CURRENT_LIST_DIR}/gen_msg.c
    ${CMAKE_CURRENT_LIST_DIR}/gen_body.c
    ${CMAKE_CURRENT_LIST_DIR}/gen_der.c
    ${CMAKE_CURRENT_LIST_DIR}/gen_pki.c)
target_link_libraries(adv_gen PRIVATE cmpca_asn1 OpenSSL::Crypto)

set(CMPCA_ADVERSARIAL_GROUPS
    00-der 01-header 02-protection 03-vendor 04-request 05-lifecycle 09-dos)

foreach(g ${CMPCA_ADVERSARIAL_GROUPS})
    string(SUBSTRING ${g} 0 2 num)
    add_test(NAME adversarial.${g}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run.sh
                     $<TARGET_FILE:cmpca> $<TARGET_FILE:adv_gen> --group ${num})
    # 09-dos sends 10,000 signed requests: minutes under ASan
    set(timeout 300)
    if(num STREQUAL "09")
        set(timeout 900)
    endif()
    set_tests_properties(adversarial.${g} PROPERTIES
        LABELS "adversarial"
        TIMEOUT ${timeout})
endforeach()
