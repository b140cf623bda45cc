# files of src/presence
libpresgw_a_SOURCES += src/presence/presence.h src/presence/pres_status.c \
	src/presence/pidf_parse.c src/presence/pidf_build.c \
	src/presence/dialoginfo_parse.c src/presence/dialoginfo_build.c \
	src/presence/afe.c src/presence/rlmi.c \
	src/presence/presxml.h src/presence/presxml.c \
	src/presence/pres_text.h src/presence/pres_text.c
