# SYNTAX TEST "source.dockerfile" "# escape=` after another directive; a later escape line is a comment"
# syntax=docker/dockerfile:1
# ^^^^^^ meta.directive.dockerfile keyword.control.directive.dockerfile
# escape=`
# ^^^^^^ meta.directive.dockerfile keyword.control.directive.dockerfile
# check=error=true
# ^^^^^ meta.escape-backtick.dockerfile meta.directive.dockerfile keyword.control.directive.dockerfile
RUN Get-ChildItem C:\ `
#                     ^ meta.escape-backtick.dockerfile constant.character.escape.line-continuation.dockerfile
    | Select-Object Name
#   ^ meta.instruction.run.dockerfile keyword.operator.pipe.dockerfile
# escape=\
# <---------- comment.line.number-sign.dockerfile - meta.directive.dockerfile
