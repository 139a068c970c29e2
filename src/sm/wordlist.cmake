# wordlist.cmake — turns data/bip39-english.txt into a C array (cmake -DIN=... -DOUT=... -P).
# Fails the build unless the list has exactly 2048 lower-case ASCII words, one per line.
file(STRINGS ${IN} words)
list(LENGTH words n)
if(NOT n EQUAL 2048)
  message(FATAL_ERROR "${IN}: ${n} words, a BIP-39 list has 2048")
endif()
set(body "")
foreach(w IN LISTS words)
  if(NOT w MATCHES "^[a-z]+$")
    message(FATAL_ERROR "${IN}: \"${w}\" is not a lower-case word")
  endif()
  string(APPEND body "    \"${w}\",\n")
endforeach()
file(WRITE ${OUT}.tmp "/* Generated from data/bip39-english.txt by src/sm/wordlist.cmake. Do not edit. */
#include \"sm/sm.h\"

const char *const gdb_bip39_words[2048] = {
${body}};
")
file(RENAME ${OUT}.tmp ${OUT})
