# SYNTAX TEST "source.dockerfile" "the 18 instructions, case-insensitive; FROM AS; ONBUILD"
FROM --platform=$BUILDPLATFORM node:20-alpine AS build
# <---- meta.instruction.from.dockerfile keyword.other.special-method.dockerfile
#                              ^^^^^^^^^^^^^^ entity.name.type.image.dockerfile
#                                             ^^ keyword.other.special-method.dockerfile
#                                                ^^^^^ entity.name.type.stage.dockerfile
from builder as final
# <---- keyword.other.special-method.dockerfile
#    ^^^^^^^ entity.name.type.image.dockerfile
#            ^^ keyword.other.special-method.dockerfile
#               ^^^^^ entity.name.type.stage.dockerfile
  Run make
# ^^^ meta.instruction.run.dockerfile keyword.other.special-method.dockerfile
CMD node server.js
# <--- meta.instruction.cmd.dockerfile keyword.other.special-method.dockerfile
LABEL "com.example.vendor"="ACME" version=1.0
# <----- keyword.other.special-method.dockerfile
#     ^^^^^^^^^^^^^^^^^^^^ entity.other.attribute-name.label.dockerfile
#                         ^ keyword.operator.assignment.dockerfile
#                                 ^^^^^^^ entity.other.attribute-name.label.dockerfile
MAINTAINER someone@example.com
# <---------- keyword.other.special-method.dockerfile
EXPOSE 80 443/tcp 53/udp 8000-8010
# <------ keyword.other.special-method.dockerfile
#      ^^ constant.numeric.port.dockerfile
#         ^^^ constant.numeric.port.dockerfile
#            ^ punctuation.separator.protocol.dockerfile
#             ^^^ constant.language.protocol.dockerfile
#                        ^^^^^^^^^ constant.numeric.port.dockerfile
ENV PATH=/app/bin:$PATH NAME="a b"
# <--- keyword.other.special-method.dockerfile
#   ^^^^ variable.other.definition.dockerfile
#       ^ keyword.operator.assignment.dockerfile
#                 ^^^^^ variable.other.dockerfile
#                       ^^^^ variable.other.definition.dockerfile
#                            ^^^^^ string.quoted.double.dockerfile
ENV LEGACY some value
#   ^^^^^^ variable.other.definition.dockerfile
#          ^^^^^^^^^^ - variable
ADD https://example.com/a.tgz /tmp/
# <--- meta.instruction.copy.dockerfile keyword.other.special-method.dockerfile
COPY . /app
# <---- meta.instruction.copy.dockerfile keyword.other.special-method.dockerfile
ENTRYPOINT ["node"]
# <---------- meta.instruction.cmd.dockerfile keyword.other.special-method.dockerfile
VOLUME /data
# <------ keyword.other.special-method.dockerfile
USER node:node
# <---- keyword.other.special-method.dockerfile
WORKDIR /app
# <------- keyword.other.special-method.dockerfile
ARG NODE_VERSION=20 OTHER
# <--- keyword.other.special-method.dockerfile
#   ^^^^^^^^^^^^ variable.other.definition.dockerfile
#               ^ keyword.operator.assignment.dockerfile
#                   ^^^^^ variable.other.definition.dockerfile
ONBUILD RUN npm ci
# <------- meta.instruction.onbuild.dockerfile keyword.control.onbuild.dockerfile
#       ^^^ meta.instruction.onbuild.dockerfile meta.instruction.run.dockerfile keyword.other.special-method.dockerfile
onbuild copy --from=build . /app
# <------- keyword.control.onbuild.dockerfile
#       ^^^^ meta.instruction.copy.dockerfile keyword.other.special-method.dockerfile
#            ^^ entity.other.attribute-name.flag.dockerfile punctuation.definition.flag.dockerfile
STOPSIGNAL SIGTERM
# <---------- keyword.other.special-method.dockerfile
#          ^^^^^^^ constant.language.signal.dockerfile
HEALTHCHECK --interval=30s CMD curl --fail http://localhost/ || exit 1
# <----------- keyword.other.special-method.dockerfile
#           ^^^^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                          ^^^ keyword.other.special-method.dockerfile
#                                   ^^^^^^ - entity.other.attribute-name.flag.dockerfile
HEALTHCHECK NONE
#           ^^^^ constant.language.none.dockerfile
SHELL ["powershell", "-Command"]
# <----- keyword.other.special-method.dockerfile
RUNNER not an instruction
# <------ - keyword
