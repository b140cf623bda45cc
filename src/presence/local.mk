# files of src/presence
