-- placeholder: not written yet
return false
