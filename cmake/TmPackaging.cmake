# Install rules and Debian packages (CPack, `cpack -G DEB` in the build directory or the
# `package` target): one package per product, version from project(VERSION).
#   taskmaster-server  the daemon, its default config (/etc/taskmaster/taskmaster.conf, a conffile),
#                      the systemd units, the system user `taskmaster` and /var/lib/taskmaster
#                      (made by packaging/debian/taskmaster-server/postinst)
#   taskmaster         the QML client, its .desktop file and icon
#   tm-load            the load generator
# Dependencies on shared libraries come from dpkg-shlibdeps; what is loaded at run time as a plugin
# (Qt's SQL drivers, QML modules, the platform plugins) is listed by hand below, and the package
# test (tests/packaging) checks that every plugin a run loads belongs to a listed package.
include(GNUInstallDirs)

set(tm_pkg ${PROJECT_SOURCE_DIR}/packaging)
set(tm_doc_dir ${CMAKE_INSTALL_DATAROOTDIR}/doc)

if(TM_BUILD_SERVER)
  install(TARGETS taskmaster-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
  install(FILES ${tm_pkg}/config/taskmaster.conf DESTINATION /etc/taskmaster COMPONENT server)
  # Debian 12 keeps packaged units in /lib/systemd/system.
  install(FILES ${tm_pkg}/systemd/taskmaster-server.service ${tm_pkg}/systemd/taskmaster-server@.service
    DESTINATION /lib/systemd/system COMPONENT server)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/deploy.md ${PROJECT_SOURCE_DIR}/docs/operations.md
    DESTINATION ${tm_doc_dir}/taskmaster-server COMPONENT server)
  install(FILES ${tm_pkg}/config/instance.conf ${tm_pkg}/nginx/taskmaster.conf.template
    ${tm_pkg}/nginx/render-conf.sh DESTINATION ${tm_doc_dir}/taskmaster-server/examples COMPONENT server)
  install(TARGETS tm-load RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT load)
endif()
if(TM_BUILD_CLIENT)
  install(TARGETS taskmaster RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT client)
  install(FILES ${tm_pkg}/desktop/taskmaster.desktop DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/applications
    COMPONENT client)
  install(FILES ${tm_pkg}/desktop/taskmaster.svg
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps COMPONENT client)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME taskmaster)
set(CPACK_PACKAGE_VENDOR "TaskMaster")
set(CPACK_PACKAGE_CONTACT "TaskMaster maintainers <taskmaster@localhost>")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/taskmaster/taskmaster")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON) # the packages carry stripped binaries
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # dpkg-shlibdeps (dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_COMPONENTS_ALL)
if(TM_BUILD_SERVER)
  list(APPEND CPACK_COMPONENTS_ALL server load)
endif()
if(TM_BUILD_CLIENT)
  list(APPEND CPACK_COMPONENTS_ALL client)
endif()

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME taskmaster-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
# Qt's SQL drivers are plugins (no shlibdeps): SQLite is the default back end, PostgreSQL the
# cluster's. adduser makes the system user; init-system-helpers runs the unit's enablement.
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, init-system-helpers, libqt6sql6-sqlite, libqt6sql6-psql")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "postgresql, redis-server, nginx, sqlite3")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${tm_pkg}/debian/taskmaster-server/conffiles ${tm_pkg}/debian/taskmaster-server/postinst
  ${tm_pkg}/debian/taskmaster-server/prerm ${tm_pkg}/debian/taskmaster-server/postrm)
set(CPACK_COMPONENT_SERVER_DESCRIPTION "TaskMaster server: REST API and real-time WebSocket channel
 taskmaster-server serves a team's projects, tasks and chat rooms over a REST API and a
 WebSocket channel that delivers every change within milliseconds. It runs alone on an embedded
 SQLite database, or as several instances behind nginx sharing PostgreSQL and Redis.
 .
 The package runs it as the systemd service taskmaster-server (user taskmaster, data in
 /var/lib/taskmaster, configuration in /etc/taskmaster/taskmaster.conf).")

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME taskmaster)
set(CPACK_DEBIAN_CLIENT_PACKAGE_SECTION net)
# The QML modules the client imports (QtQuick, .Controls with the Basic style, .Layouts, .Window)
# and what they load themselves (.Templates, QtQml.WorkerScript), and the platform plugins.
set(CPACK_DEBIAN_CLIENT_PACKAGE_DEPENDS "qml6-module-qtquick, qml6-module-qtquick-controls, \
qml6-module-qtquick-templates, qml6-module-qtquick-layouts, qml6-module-qtquick-window, \
qml6-module-qtqml-workerscript, qt6-qpa-plugins")
# The session token's keychain (libqt6keychain1 comes from the shared libraries) talks to a
# Secret Service; without one the token stays in the settings file and the client says so.
set(CPACK_DEBIAN_CLIENT_PACKAGE_RECOMMENDS "gnome-keyring | kwalletmanager")
set(CPACK_COMPONENT_CLIENT_DESCRIPTION "TaskMaster client: tasks and chat for desktop and phone
 The QML client of a TaskMaster server: rooms with live messages, typing and presence, project
 boards with tasks, search, and an admin dashboard. It reconnects and resumes by itself after a
 network drop.")

set(CPACK_DEBIAN_LOAD_PACKAGE_NAME tm-load)
set(CPACK_DEBIAN_LOAD_PACKAGE_SECTION net)
set(CPACK_DEBIAN_LOAD_PACKAGE_DEPENDS "libqt6sql6-psql")
set(CPACK_COMPONENT_LOAD_DESCRIPTION "TaskMaster load generator and latency meter
 tm-load drives a taskmaster-server (or a cluster behind nginx, on loopback) with simulated
 users over REST and WebSocket and measures delivery latency, loss, duplicates and order,
 optionally checking every stream against PostgreSQL.")

include(CPack)
