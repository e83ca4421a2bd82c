# Fuzz targets (tests/fuzz, docs/fuzzing.md). Every target is built twice:
#  - replay_<name>: the target plus replay_main.c, in every build. CTest runs
#    it over corpus/<name>/ as fuzz.replay.<name>, so each crash found and
#    saved there stays a test (under ASan+UBSan in `make asan`).
#  - fuzz_<name>: the libFuzzer binary, only with -DCMPCA_FUZZ=ON (clang;
#    the top-level CMakeLists.txt then instruments the whole project with
#    -fsanitize=fuzzer-no-link,address,undefined). `make fuzz` runs them.
set(CMPCA_FUZZ_SRC ${CMAKE_CURRENT_LIST_DIR})

# cmpca_fuzz_target(NAME LIBRARY SOURCES...)
function(cmpca_fuzz_target name lib)
    list(TRANSFORM ARGN PREPEND ${CMPCA_FUZZ_SRC}/)
    add_executable(replay_${name} ${ARGN} ${CMPCA_FUZZ_SRC}/replay_main.c)
    target_link_libraries(replay_${name} PRIVATE ${lib})
    target_compile_definitions(replay_${name} PRIVATE
                               CMPCA_FUZZ_PKI_DIR="${CMPCA_FUZZ_SRC}/pki")
    add_test(NAME fuzz.replay.${name}
             COMMAND replay_${name} ${CMPCA_FUZZ_SRC}/corpus/${name})
    set_tests_properties(fuzz.replay.${name} PROPERTIES TIMEOUT 300
                         LABELS fuzz)
    if(CMPCA_FUZZ)
        add_executable(fuzz_${name} ${ARGN})
        target_link_libraries(fuzz_${name} PRIVATE ${lib})
        target_compile_definitions(fuzz_${name} PRIVATE
                                   CMPCA_FUZZ_PKI_DIR="${CMPCA_FUZZ_SRC}/pki")
        target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
        target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    endif()
endfunction()

cmpca_fuzz_target(pkimessage cmpca_asn1 fuzz_pkimessage.c)
cmpca_fuzz_target(genm_itav cmpca_asn1 fuzz_genm_itav.c)
cmpca_fuzz_target(path cmpca_transport fuzz_path.c)
cmpca_fuzz_target(pipeline cmpca_cmp fuzz_pipeline.c fuzz_pipeline_env.c
                  fuzz_pipeline_mac.c)

# make_seeds.sh's helper (packs pipeline records, forges error and nested
# messages); built with everything so it keeps compiling.
add_executable(fuzz_seed_tool ${CMPCA_FUZZ_SRC}/fuzz_seed_tool.c)
target_link_libraries(fuzz_seed_tool PRIVATE cmpca_asn1)
