# Patches to the whisper.cpp that whisper-rs-sys builds, applied to the copy of its sources in
# whisper-rs-sys's OUT_DIR before anything is compiled. CMake includes this file at each
# project() call of that build (CMAKE_PROJECT_INCLUDE, set in .cargo/config.toml; whisper-rs-sys
# forwards CMAKE_* variables to CMake). Each patch replaces one exact piece of text; if the text
# is gone (a new whisper-rs-sys), the build stops here with the file's name instead of quietly
# building without the patch.

function(subcut_patch file from to)
  set(path "${CMAKE_SOURCE_DIR}/${file}")
  file(READ "${path}" text)
  string(FIND "${text}" "${to}" done)
  if(NOT done EQUAL -1)
    return()
  endif()
  string(FIND "${text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "subcut: cannot patch ${path}: the text to replace is not there "
      "(whisper-rs-sys changed; see cmake/whisper-patches.cmake)")
  endif()
  string(REPLACE "${from}" "${to}" text "${text}")
  file(WRITE "${path}" "${text}")
  message(STATUS "subcut: patched ${file}")
endfunction()

# ggml's AMX backend (Intel AMX int8 tiles; compiled in by GGML_NATIVE on CPUs that have them)
# only claims matrix products whose rows are a multiple of 2048 values, a limit its own comment
# calls "not sure if correct". Its kernels need only whole quantization blocks (q8_0: 32) and
# output rows in multiples of 32, both checked elsewhere in the same condition and in the
# kernels; whisper base's layers are 512 wide, so without this only its fc2 weights (rows of
# 2048) used AMX. With it, all of base's encoder and decoder layers do: transcription of
# continuous speech about 25 % faster on the benchmark machine, same words (docs/BENCH.md).
subcut_patch(ggml/src/ggml-cpu/amx/amx.cpp
  "op->src[0]->ne[0] % (TILE_K * 2 * 32) == 0 &&"
  "op->src[0]->ne[0] % (TILE_K * 2) == 0 && /* subcut: was 2048 */")
