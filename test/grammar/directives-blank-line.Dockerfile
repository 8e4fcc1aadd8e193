# SYNTAX TEST "source.dockerfile" "an empty line ends the parser directives"
# syntax=docker/dockerfile:1
# ^^^^^^ keyword.control.directive.dockerfile

# check=skip=all
# ^^^^^^^^^^^^^^^ comment.line.number-sign.dockerfile - meta.directive.dockerfile
FROM scratch
# <---- keyword.other.special-method.dockerfile
