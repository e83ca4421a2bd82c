# Unit test of the store room: a real SQLite file in a temp dir.
add_executable(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store PRIVATE cmpca_store Threads::Threads)
add_test(NAME unit.store COMMAND test_store)
set_tests_properties(unit.store PROPERTIES TIMEOUT 120)
# Manual approval: the device row the CLI and the server share.
add_executable(test_store_approval
               ${CMAKE_CURRENT_LIST_DIR}/test_store_approval.c)
target_include_directories(test_store_approval PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_approval PRIVATE cmpca_store)
add_test(NAME unit.store_approval COMMAND test_store_approval)
# Revocation and CRL bookkeeping: certificate columns, revoked list, CRL numbers.
add_executable(test_store_revoke ${CMAKE_CURRENT_LIST_DIR}/test_store_revoke.c)
target_include_directories(test_store_revoke PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_revoke PRIVATE cmpca_store Threads::Threads)
add_test(NAME unit.store_revoke COMMAND test_store_revoke)
# RA registry: the ras table the CLI writes and the server reads per request.
add_executable(test_store_ra ${CMAKE_CURRENT_LIST_DIR}/test_store_ra.c)
target_include_directories(test_store_ra PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_ra PRIVATE cmpca_store)
add_test(NAME unit.store_ra COMMAND test_store_ra)
# Shared secrets for MAC protection: the secrets table, single use.
add_executable(test_store_secret ${CMAKE_CURRENT_LIST_DIR}/test_store_secret.c)
target_link_libraries(test_store_secret PRIVATE cmpca_store Threads::Threads)
add_test(NAME unit.store_secret COMMAND test_store_secret)
# Audit log: the hash chain, its filters, tampering found, concurrent appends.
add_executable(test_store_audit ${CMAKE_CURRENT_LIST_DIR}/test_store_audit.c)
target_include_directories(test_store_audit PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_audit PRIVATE cmpca_store OpenSSL::Crypto
                      Threads::Threads)
add_test(NAME unit.store_audit COMMAND test_store_audit)
