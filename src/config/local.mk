libpresgw_a_SOURCES += src/config/conf.h src/config/conf.c
