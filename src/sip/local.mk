# files of src/sip
