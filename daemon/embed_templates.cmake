# Writes the built-in copies of etc/templates/*.txt into a C file, so a notice
# or an alert never depends on an installed file (a fresh build, a deleted or
# broken template). Run at build time: cmake -DDIR=... -DOUT=... -P this file.
file(GLOB files RELATIVE ${DIR} ${DIR}/*.txt)
list(SORT files)
set(body "/* Generated from etc/templates by daemon/embed_templates.cmake: do not edit. */\n")
string(APPEND body "#include \"template.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char t${i}[] = {${hex}0x00};\n")
  string(APPEND table "    {\"${f}\", t${i}, sizeof(t${i}) - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct vg_builtin_template vg_builtin_templates[] = {\n${table}")
string(APPEND body "    {0, 0, 0},\n};\n")
# Rewritten only when it changes, so a rebuild does not recompile for nothing.
file(WRITE ${OUT}.new "${body}")
file(COPY_FILE ${OUT}.new ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.new)
