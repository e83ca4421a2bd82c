# Unit tests of the store room: a real SQLite file in a temp dir, and each
# again (unit.*.pg) on a real PostgreSQL database of the `pg` fixture
# (store_testdb.c picks the backend from the environment).
add_executable(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store PRIVATE cmpca_store PkgConfig::LIBPQ
                      Threads::Threads)
add_test(NAME unit.store COMMAND test_store)
set_tests_properties(unit.store PROPERTIES TIMEOUT 120)
# Manual approval: the device row the CLI and the server share.
add_executable(test_store_approval
               ${CMAKE_CURRENT_LIST_DIR}/test_store_approval.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store_approval PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_approval PRIVATE cmpca_store PkgConfig::LIBPQ)
add_test(NAME unit.store_approval COMMAND test_store_approval)
# Revocation and CRL bookkeeping: certificate columns, revoked list, CRL numbers.
add_executable(test_store_revoke ${CMAKE_CURRENT_LIST_DIR}/test_store_revoke.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store_revoke PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_revoke PRIVATE cmpca_store PkgConfig::LIBPQ
                      Threads::Threads)
add_test(NAME unit.store_revoke COMMAND test_store_revoke)
# RA registry: the ras table the CLI writes and the server reads per request.
add_executable(test_store_ra ${CMAKE_CURRENT_LIST_DIR}/test_store_ra.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store_ra PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_ra PRIVATE cmpca_store PkgConfig::LIBPQ)
add_test(NAME unit.store_ra COMMAND test_store_ra)
# Shared secrets for MAC protection: the secrets table, single use.
add_executable(test_store_secret ${CMAKE_CURRENT_LIST_DIR}/test_store_secret.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store_secret PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_secret PRIVATE cmpca_store PkgConfig::LIBPQ
                      Threads::Threads)
add_test(NAME unit.store_secret COMMAND test_store_secret)
# Audit log: the hash chain, its filters, tampering found, concurrent appends.
add_executable(test_store_audit ${CMAKE_CURRENT_LIST_DIR}/test_store_audit.c
               ${CMAKE_CURRENT_LIST_DIR}/store_testdb.c)
target_include_directories(test_store_audit PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_store_audit PRIVATE cmpca_store PkgConfig::LIBPQ
                      OpenSSL::Crypto Threads::Threads)
add_test(NAME unit.store_audit COMMAND test_store_audit)

# The same programs on PostgreSQL, and what only a server can do: restart
# under a store that is open (test_store_pg).
include(${CMAKE_CURRENT_LIST_DIR}/../pg_fixture.cmake)
if(CMPCA_PG_TESTS)
    foreach(t store store_approval store_revoke store_ra store_secret
              store_audit)
        add_test(NAME unit.${t}.pg COMMAND test_${t})
        set_tests_properties(unit.${t}.pg PROPERTIES
            ENVIRONMENT "CMPCA_TEST_STORE_URI_FILE=${CMPCA_PG_STATE}/uri"
            FIXTURES_REQUIRED pg LABELS pg TIMEOUT 180)
    endforeach()
endif()
# The store through a PostgreSQL restart, killed sessions, a lock held too
# long and a busy pool, on a private cluster of its own (test_store_pg.c).
if(CMPCA_PG_TESTS)
    add_executable(test_store_pg ${CMAKE_CURRENT_LIST_DIR}/test_store_pg.c)
    target_include_directories(test_store_pg PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    target_compile_definitions(test_store_pg PRIVATE
        CMPCA_PG_SCRIPT="${CMAKE_SOURCE_DIR}/scripts/pg-test-cluster.sh")
    target_link_libraries(test_store_pg PRIVATE cmpca_store PkgConfig::LIBPQ
                          Threads::Threads)
    add_test(NAME unit.store_pg COMMAND test_store_pg)
    # the fixture only makes sure PostgreSQL is installed
    set_tests_properties(unit.store_pg PROPERTIES
        FIXTURES_REQUIRED pg LABELS pg TIMEOUT 180)
endif()
