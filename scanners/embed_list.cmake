# Writes a text file (etc/prenoms.txt) into a C string, so the person_name
# detector never depends on an installed file (the workers are sandboxed and open
# no path). Run at build time: cmake -DIN=... -DOUT=... -DNAME=... -P this file.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
set(body "/* Generated from ${IN} by scanners/embed_list.cmake: do not edit. */\n")
string(APPEND body "const char ${NAME}[] = {${hex}0x00};\n")
file(WRITE ${OUT}.new "${body}")
file(COPY_FILE ${OUT}.new ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.new)
