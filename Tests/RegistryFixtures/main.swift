print("registry-fixtures")
