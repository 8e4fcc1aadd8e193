# SYNTAX TEST "source.dockerfile" "shell-form strings, escapes, line continuations, comments inside them"
RUN echo "double $X \"q\"" 'single $X \n' | tr a b && true || false; echo
#        ^ string.quoted.double.dockerfile punctuation.definition.string.begin.dockerfile
#                ^^ string.quoted.double.dockerfile variable.other.dockerfile
#                   ^^ string.quoted.double.dockerfile constant.character.escape.dockerfile
#                        ^ string.quoted.double.dockerfile punctuation.definition.string.end.dockerfile
#                          ^ string.quoted.single.dockerfile punctuation.definition.string.begin.dockerfile
#                                  ^^ string.quoted.single.dockerfile - variable
#                                     ^^ string.quoted.single.dockerfile - constant.character.escape
#                                         ^ keyword.operator.pipe.dockerfile
#                                                  ^^ keyword.operator.logical.dockerfile
#                                                          ^^ keyword.operator.logical.dockerfile
#                                                                  ^ punctuation.terminator.statement.dockerfile
RUN apt-get update \
#                  ^ meta.instruction.run.dockerfile constant.character.escape.line-continuation.dockerfile
    # a comment line inside a continued instruction
#   ^ meta.instruction.run.dockerfile comment.line.number-sign.dockerfile punctuation.definition.comment.dockerfile
#       ^^^^^^^ comment.line.number-sign.dockerfile
    && apt-get install -y \  
#   ^^ meta.instruction.run.dockerfile keyword.operator.logical.dockerfile
#                         ^ constant.character.escape.line-continuation.dockerfile

      curl git
#     ^^^^ meta.instruction.run.dockerfile
FROM alpine
# <---- meta.instruction.from.dockerfile keyword.other.special-method.dockerfile
# <---- - meta.instruction.run.dockerfile
RUN echo "a string that \
#        ^ string.quoted.double.dockerfile punctuation.definition.string.begin.dockerfile
#                       ^ string.quoted.double.dockerfile constant.character.escape.line-continuation.dockerfile
  continues" after
# ^^^^^^^^^ meta.instruction.run.dockerfile string.quoted.double.dockerfile
#          ^ string.quoted.double.dockerfile punctuation.definition.string.end.dockerfile
#            ^^^^^ meta.instruction.run.dockerfile - string
RUN echo "unterminated
#         ^^^^^^^^^^^^ string.quoted.double.dockerfile
USER root
# <---- keyword.other.special-method.dockerfile - string
ENV MSG="hello \
#              ^ constant.character.escape.line-continuation.dockerfile
world" OTHER=1
# <----- meta.instruction.env.dockerfile string.quoted.double.dockerfile
#      ^^^^^ variable.other.definition.dockerfile
RUN echo \$HOME but a trailing backslash pair still continues \\
#        ^^ constant.character.escape.dockerfile
#                                                             ^^ - constant.character.escape.dockerfile
#                                                              ^ constant.character.escape.line-continuation.dockerfile
  continued
# ^^^^^^^^^ meta.instruction.run.dockerfile
EXPOSE 80
# <------ meta.instruction.expose.dockerfile keyword.other.special-method.dockerfile - meta.instruction.run.dockerfile
