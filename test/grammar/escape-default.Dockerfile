# SYNTAX TEST "source.dockerfile" "default escape: a trailing backtick is not a continuation"
FROM alpine
# <---- keyword.other.special-method.dockerfile - meta.escape-backtick.dockerfile
RUN echo `date`
#         ^^^^ meta.instruction.run.dockerfile - constant.character.escape.line-continuation.dockerfile
RUN echo a \
#          ^ constant.character.escape.line-continuation.dockerfile
  b
# ^ meta.instruction.run.dockerfile
# escape=`
# <---------- comment.line.number-sign.dockerfile - meta.directive.dockerfile
RUN echo x `
#          ^ - constant.character.escape.line-continuation.dockerfile
USER root
# <---- keyword.other.special-method.dockerfile - meta.instruction.run.dockerfile
