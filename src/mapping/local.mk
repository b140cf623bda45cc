# files of src/mapping
libpresgw_a_SOURCES += src/mapping/mapping.h src/mapping/mapping.c
