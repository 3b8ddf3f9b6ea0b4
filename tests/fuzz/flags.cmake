# VIGIE_FUZZ: every object of the build gets libFuzzer's coverage instrumentation
# and ASan+UBSan; only the targets of tests/fuzz link the fuzzer itself.
if(VIGIE_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VIGIE_FUZZ=ON needs clang (libFuzzer), not ${CMAKE_C_COMPILER_ID}: "
                        "configure a fresh build folder with CC=clang "
                        "(apt-get install clang)")
  endif()
  if(VIGIE_SANITIZE)
    message(FATAL_ERROR "VIGIE_FUZZ=ON already builds with ASan+UBSan: leave VIGIE_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(VIGIE_SANITIZED=1 VIGIE_FUZZING=1)
endif()
