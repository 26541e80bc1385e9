# The Debian package: `cmake --build build --target package` (or
# `cd build && cpack -G DEB`) writes build/s3reconcile_<version>_<arch>.deb.
#
# It holds the install component `runtime` only: the tool and its examples
# (installed by the dev install too), and the files below, which are
# EXCLUDE_FROM_ALL so that a plain `cmake --install` (the dev install:
# libraries, headers, CMake package, component `development`) stays as it
# was and never writes outside its prefix (the unit goes to /lib).

# The man page, gzipped as Debian ships them (-n: no name or time inside,
# so the package is the same from one build to the next).
set(S3R_MAN_PAGE ${CMAKE_CURRENT_BINARY_DIR}/packaging/s3reconcile.1.gz)
add_custom_command(OUTPUT ${S3R_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_SOURCE_DIR}/packaging/s3reconcile.1
    ${CMAKE_CURRENT_BINARY_DIR}/packaging/s3reconcile.1
  COMMAND gzip -9nf ${CMAKE_CURRENT_BINARY_DIR}/packaging/s3reconcile.1
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/packaging/s3reconcile.1
  COMMENT "Compressing the man page")
add_custom_target(s3r_man_page ALL DEPENDS ${S3R_MAN_PAGE})

# The example unit runs /usr/local/bin/s3reconcile (a source install); the
# package's binary is in /usr/bin.
file(READ ${CMAKE_CURRENT_SOURCE_DIR}/examples/s3reconcile.service S3R_UNIT)
string(FIND "${S3R_UNIT}" "ExecStart=/usr/local/bin/s3reconcile " S3R_UNIT_EXEC)
if(S3R_UNIT_EXEC EQUAL -1)
  message(FATAL_ERROR "examples/s3reconcile.service: no ExecStart=/usr/local/bin/s3reconcile to point at /usr/bin")
endif()
string(REPLACE "ExecStart=/usr/local/bin/s3reconcile " "ExecStart=/usr/bin/s3reconcile " S3R_UNIT "${S3R_UNIT}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/s3reconcile.service "${S3R_UNIT}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/examples/s3reconcile.service)

install(FILES ${S3R_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES packaging/completions/s3reconcile.bash RENAME s3reconcile
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES packaging/completions/_s3reconcile
  DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES packaging/grafana/s3reconcile-dashboard.json
  DESTINATION ${CMAKE_INSTALL_DATADIR}/s3reconcile/grafana COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/s3reconcile COMPONENT runtime EXCLUDE_FROM_ALL)
# Installed, never enabled: the package has no maintainer scripts.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/s3reconcile.service
  DESTINATION /lib/systemd/system COMPONENT runtime EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME s3reconcile)
set(CPACK_PACKAGE_VENDOR "s3reconcile")
set(CPACK_PACKAGE_CONTACT "s3reconcile maintainers <s3reconcile@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "find and repair drift between object stores and their SQL index")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "s3reconcile walks each backend (a folder or an S3-compatible bucket) and the
index rows of that backend as ordered streams, imports objects the index lacks
and removes rows whose objects are gone, in SQLite or PostgreSQL. It never
deletes an object. `s3reconcile serve` runs passes on an interval and exposes
Prometheus metrics; a systemd unit (not enabled) and a Grafana dashboard are
included.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME s3reconcile)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The runtime libraries (libcurl, libpq, libyaml-cpp, ...) from the binary's
# links, as Debian's own packages do.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
