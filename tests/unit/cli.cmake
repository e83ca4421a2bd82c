# CLI tests: shell scripts driving the cmpca binary alone (no CMP traffic).
# tests/cli/lib.sh is their shared helper, not a test.
foreach(name init vendor device approval cert ca_export usage serve crl ra secret audit)
    add_test(NAME cli.${name}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/../cli/${name}.sh
                     $<TARGET_FILE:cmpca>)
    set_tests_properties(cli.${name} PROPERTIES TIMEOUT 120)
endforeach()
