# SYNTAX TEST "source.dockerfile" "flags, and the key=value options of --mount / --network / --security"
COPY --from=builder --chown=node:node --link /app /app
#    ^^ meta.flag.dockerfile entity.other.attribute-name.flag.dockerfile punctuation.definition.flag.dockerfile
#      ^^^^ meta.flag.dockerfile entity.other.attribute-name.flag.dockerfile
#          ^ meta.flag.dockerfile keyword.operator.assignment.dockerfile
#           ^^^^^^^ meta.flag.dockerfile string.unquoted.flag-value.dockerfile
#                   ^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                          ^ keyword.operator.assignment.dockerfile
#                           ^^^^^^^^^ string.unquoted.flag-value.dockerfile
#                                     ^^^^^^ entity.other.attribute-name.flag.dockerfile
#                                            ^^^^^^^^^ - meta.flag.dockerfile
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev
#   ^^^^^^^ meta.flag.dockerfile entity.other.attribute-name.flag.dockerfile
#          ^ meta.flag.dockerfile keyword.operator.assignment.dockerfile
#           ^^^^ meta.flag.dockerfile meta.flag-options.dockerfile variable.parameter.option.dockerfile
#               ^ meta.flag-options.dockerfile keyword.operator.assignment.dockerfile
#                ^^^^^ meta.flag-options.dockerfile string.unquoted.option-value.dockerfile
#                     ^ meta.flag-options.dockerfile punctuation.separator.option.dockerfile
#                      ^^^^^^ variable.parameter.option.dockerfile
#                            ^ keyword.operator.assignment.dockerfile
#                             ^^^^^^^^^^ string.unquoted.option-value.dockerfile
#                                       ^ punctuation.separator.option.dockerfile
#                                        ^^^^^^^ variable.parameter.option.dockerfile
#                                               ^ keyword.operator.assignment.dockerfile
#                                                ^^^^^^ string.unquoted.option-value.dockerfile
#                                                       ^^^^^^^^^^^^^^^^^ - meta.flag.dockerfile entity.other.attribute-name.flag.dockerfile
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc,required \
#                                                    ^^^^^^^^ variable.parameter.option.dockerfile
#                                                             ^ constant.character.escape.line-continuation.dockerfile
    --mount=type=bind,from=deps,source=/node_modules,target=/app/node_modules \
#   ^^^^^^^ meta.flag.dockerfile entity.other.attribute-name.flag.dockerfile
#                     ^^^^ variable.parameter.option.dockerfile
#                          ^^^^ string.unquoted.option-value.dockerfile
    --network=host --security=insecure \
#   ^^^^^^^^^ entity.other.attribute-name.flag.dockerfile
#            ^ keyword.operator.assignment.dockerfile
#             ^^^^ string.unquoted.flag-value.dockerfile
#                  ^^^^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                             ^^^^^^^^ string.unquoted.flag-value.dockerfile
    npm ci --no-audit
#          ^^^^^^^^^^ - meta.flag.dockerfile
RUN --mount=type=cache,id=npm-$TARGETARCH,target=/root/.npm npm ci
#                         ^^^^^^^^^^^^^^^ string.unquoted.option-value.dockerfile
#                             ^ variable.other.dockerfile punctuation.definition.variable.dockerfile
#                              ^^^^^^^^^^ variable.other.dockerfile
FROM --platform=${BUILDPLATFORM} golang AS build
#    ^^^^^^^^^^ entity.other.attribute-name.flag.dockerfile
#               ^^ string.unquoted.flag-value.dockerfile punctuation.definition.variable.begin.dockerfile
#                 ^^^^^^^^^^^^^ string.unquoted.flag-value.dockerfile variable.other.dockerfile
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --chmod=755 https://example.com/x /x
#   ^^^^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                                                                                      ^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                                                                                              ^^^ string.unquoted.flag-value.dockerfile
HEALTHCHECK --interval=5m --timeout=3s \
  CMD curl -f http://localhost/ || exit 1
#          ^^ - entity.other.attribute-name.flag.dockerfile
RUN npm ci \
    --omit=dev
#   ^^^^^^^^^^ meta.instruction.run.dockerfile - meta.flag.dockerfile
