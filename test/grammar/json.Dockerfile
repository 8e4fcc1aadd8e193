# SYNTAX TEST "source.dockerfile" "JSON (exec) form"
CMD ["npm", "run", "build"]
#   ^ meta.array.json.dockerfile punctuation.definition.array.begin.dockerfile
#    ^ meta.array.json.dockerfile string.quoted.double.json.dockerfile punctuation.definition.string.begin.dockerfile
#     ^^^ string.quoted.double.json.dockerfile
#        ^ string.quoted.double.json.dockerfile punctuation.definition.string.end.dockerfile
#         ^ meta.array.json.dockerfile punctuation.separator.array.dockerfile
#            ^^^ string.quoted.double.json.dockerfile
#                ^ punctuation.separator.array.dockerfile
#                   ^^^^^ string.quoted.double.json.dockerfile
#                         ^ meta.array.json.dockerfile punctuation.definition.array.end.dockerfile
RUN --mount=type=cache,target=/go/pkg ["go", "build", "-o", "/out/app", "./cmd/app"]
#           ^^^^ variable.parameter.option.dockerfile
#                                     ^ punctuation.definition.array.begin.dockerfile
#                                       ^^ string.quoted.double.json.dockerfile
#                                                      ^^ string.quoted.double.json.dockerfile - entity.other.attribute-name.flag.dockerfile
ENTRYPOINT ["sh", "-c", "echo \"$HOME\" \\ \u00e9"]
#                             ^^ string.quoted.double.json.dockerfile constant.character.escape.dockerfile
#                               ^^^^^ string.quoted.double.json.dockerfile - variable
#                                       ^^ constant.character.escape.dockerfile
#                                          ^^^^^^ constant.character.escape.dockerfile
CMD ["C:\path"]
#       ^^ invalid.illegal.unrecognized-string-escape.dockerfile
COPY ["$SRC", "/dst/"]
#      ^^^^ string.quoted.double.json.dockerfile variable.other.dockerfile
SHELL ["/bin/bash", \
#                   ^ constant.character.escape.line-continuation.dockerfile
       "-o", "pipefail", "-c"]
#       ^^ meta.instruction.shell.dockerfile meta.array.json.dockerfile string.quoted.double.json.dockerfile
#                            ^ punctuation.definition.array.end.dockerfile
VOLUME ["/data", "/logs"]
#                 ^^^^^ string.quoted.double.json.dockerfile
RUN [ -f /etc/os-release ] && cat /etc/os-release
#   ^ meta.instruction.run.dockerfile - meta.array.json.dockerfile
#     ^^ - meta.array.json.dockerfile entity.other.attribute-name.flag.dockerfile
RUN if [ "$A" = "b" ]; then echo yes; fi
#        ^^^^ - meta.array.json.dockerfile
#        ^^^^ string.quoted.double.dockerfile
#         ^^ variable.other.dockerfile
