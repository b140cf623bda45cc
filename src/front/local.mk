libpresgw_a_SOURCES += src/front/front.h src/front/front_int.h \
	src/front/front.c src/front/front_publish.c src/front/front_subscribe.c \
	src/front/front_notify.c src/front/front_list.c src/front/front_keep.c \
	src/front/front_resume.c src/front/front_routed.c
