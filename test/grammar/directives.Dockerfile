# SYNTAX TEST "source.dockerfile" "parser directives vs comments"
# syntax=docker/dockerfile:1
# <- meta.directive.dockerfile punctuation.definition.directive.dockerfile
# ^^^^^^ meta.directive.dockerfile keyword.control.directive.dockerfile
#       ^ keyword.operator.assignment.dockerfile
#        ^^^^^^^^^^^^^^^^^^^ string.unquoted.directive-value.dockerfile
# <------------------------- - comment
#CHECK = skip=JSONArgsRecommended,StageNameCasing;error=true
# <- meta.directive.dockerfile punctuation.definition.directive.dockerfile
#^^^^^ keyword.control.directive.dockerfile
#      ^ keyword.operator.assignment.dockerfile
#        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ string.unquoted.directive-value.dockerfile
# just a comment: it ends the directives
# <- comment.line.number-sign.dockerfile punctuation.definition.comment.dockerfile
# ^^^^^^^^^^^^^^ comment.line.number-sign.dockerfile - meta.directive.dockerfile
# escape=`
# <--------- comment.line.number-sign.dockerfile - meta.directive.dockerfile keyword.control.directive.dockerfile
  # indented comment
# ^ comment.line.number-sign.dockerfile punctuation.definition.comment.dockerfile
FROM alpine
# syntax=docker/dockerfile:1
# <---------------------------- comment.line.number-sign.dockerfile - meta.directive.dockerfile
RUN echo hi # not a Dockerfile comment
#           ^^^^^^^^^^^^^^^^^^^^^^^^^^ meta.instruction.run.dockerfile - comment
