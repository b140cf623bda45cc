# files of src/config
