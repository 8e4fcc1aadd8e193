# SYNTAX TEST "source.dockerfile" "variables and parameter expansion"
WORKDIR $HOME/app
#       ^ variable.other.dockerfile punctuation.definition.variable.dockerfile
#        ^^^^ variable.other.dockerfile
#            ^^^^ - variable
ENV A=${B} C=${D:-default} E=${F:+alt} G=${H:?required}
#     ^^ meta.parameter-expansion.dockerfile punctuation.definition.variable.begin.dockerfile
#       ^ meta.parameter-expansion.dockerfile variable.other.dockerfile
#        ^ meta.parameter-expansion.dockerfile punctuation.definition.variable.end.dockerfile
#              ^ variable.other.dockerfile
#               ^^ meta.parameter-expansion.dockerfile keyword.operator.expansion.dockerfile
#                 ^^^^^^^ meta.parameter-expansion.dockerfile - variable keyword
#                        ^ punctuation.definition.variable.end.dockerfile
#                              ^ variable.other.dockerfile
#                               ^^ keyword.operator.expansion.dockerfile
#                                           ^^ keyword.operator.expansion.dockerfile
RUN echo ${NAME#*/} ${NAME##*/} ${FILE%.*} ${FILE%%.*} ${NAME-x} ${NAME+y}
#          ^^^^ variable.other.dockerfile
#              ^ keyword.operator.expansion.dockerfile
#               ^^ - keyword.operator
#                         ^^ keyword.operator.expansion.dockerfile
#                                 ^^^^ variable.other.dockerfile
#                                     ^ keyword.operator.expansion.dockerfile
#                                                ^^ keyword.operator.expansion.dockerfile
#                                                            ^ keyword.operator.expansion.dockerfile
#                                                                      ^ keyword.operator.expansion.dockerfile
RUN echo ${PATH/usr/opt} ${PATH//:/ }
#          ^^^^ variable.other.dockerfile
#              ^ keyword.operator.expansion.dockerfile
#               ^^^ - keyword.operator
#                  ^ keyword.operator.expansion.dockerfile
#                   ^^^ - keyword.operator
#                      ^ punctuation.definition.variable.end.dockerfile
#                              ^^ keyword.operator.expansion.dockerfile
#                                ^ - keyword.operator
#                                 ^ keyword.operator.expansion.dockerfile
ARG TAG=${VERSION:-${FALLBACK:-latest}}
#         ^^^^^^^ variable.other.dockerfile
#                ^^ keyword.operator.expansion.dockerfile
#                  ^^ punctuation.definition.variable.begin.dockerfile
#                    ^^^^^^^^ variable.other.dockerfile
#                            ^^ keyword.operator.expansion.dockerfile
#                                    ^^ punctuation.definition.variable.end.dockerfile
RUN echo "$HOME" '$HOME' \$HOME $1 $@
#         ^^^^^ string.quoted.double.dockerfile variable.other.dockerfile
#                 ^^^^^ string.quoted.single.dockerfile - variable
#                        ^^ constant.character.escape.dockerfile
#                          ^^^^ - variable
#                               ^^ variable.language.special.dockerfile
#                                  ^^ variable.language.special.dockerfile
