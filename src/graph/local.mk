# files of src/graph
