# CPack pre-build script: lists every file staged under /etc as a conffile of
# the .deb, so dpkg keeps the admin's changes on upgrade and asks on conflict.
file(GLOB_RECURSE etc_files LIST_DIRECTORIES false RELATIVE "${CPACK_TEMPORARY_DIRECTORY}"
     "${CPACK_TEMPORARY_DIRECTORY}/etc/*")
list(SORT etc_files)
set(body "")
foreach(f ${etc_files})
  string(APPEND body "/${f}\n")
endforeach()
message(STATUS "conffiles: ${CPACK_TEMPORARY_DIRECTORY} -> ${CPACK_VIGIE_CONFFILES}")
file(WRITE "${CPACK_VIGIE_CONFFILES}" "${body}")
