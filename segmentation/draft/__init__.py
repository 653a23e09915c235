"""Draft a form template from a scan of the blank (or a filled) form: boxes, names, charsets."""
