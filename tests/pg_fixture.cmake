# The CTest fixture `pg`: a private PostgreSQL server for the tests that run
# against the PostgreSQL backend (labels `pg`). pg.start runs
# scripts/pg-test-cluster.sh, which installs the server from Debian's
# packages when missing, runs initdb into a temp dir (as an unprivileged
# user when we are root) and starts it on 127.0.0.1 and a free port; the
# server's URI lands in ${CMPCA_PG_STATE}/uri, where the tests read it
# (CMPCA_TEST_STORE_URI_FILE, CMPCA_TEST_DB_FILE). pg.stop deletes it all.
# Included by tests/unit/store.cmake and tests/integration/integration.cmake.
include_guard(GLOBAL)
option(CMPCA_TEST_PG "Also run the store and integration tests on PostgreSQL" ON)
set(CMPCA_PG_STATE ${CMAKE_BINARY_DIR}/pg-test)
# CMPCA_PG_TESTS: register them. Not when there is no server and we may not
# install one (not root): say so instead of failing every test.
set(CMPCA_PG_TESTS ${CMPCA_TEST_PG})
if(CMPCA_TEST_PG)
    file(GLOB _cmpca_initdb /usr/lib/postgresql/*/bin/initdb)
    find_program(CMPCA_INITDB initdb)
    execute_process(COMMAND id -u OUTPUT_VARIABLE _cmpca_uid
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _cmpca_initdb AND NOT CMPCA_INITDB AND NOT _cmpca_uid STREQUAL "0")
        message(WARNING "PostgreSQL tests left out: no PostgreSQL server is "
                        "installed and only root may install it "
                        "(apt-get install postgresql, then reconfigure)")
        set(CMPCA_PG_TESTS OFF)
    endif()
endif()
if(CMPCA_PG_TESTS)
    add_test(NAME pg.start
             COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/pg-test-cluster.sh start
                     ${CMPCA_PG_STATE})
    set_tests_properties(pg.start PROPERTIES
        FIXTURES_SETUP pg LABELS pg TIMEOUT 900)
    add_test(NAME pg.stop
             COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/pg-test-cluster.sh stop
                     ${CMPCA_PG_STATE})
    set_tests_properties(pg.stop PROPERTIES
        FIXTURES_CLEANUP pg LABELS pg TIMEOUT 60)
endif()
