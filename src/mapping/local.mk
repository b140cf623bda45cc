# files of src/mapping
