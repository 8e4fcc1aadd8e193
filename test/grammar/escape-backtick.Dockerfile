# SYNTAX TEST "source.dockerfile" "# escape=` : backtick line continuations (best effort)"
# escape=`
# <- meta.directive.dockerfile punctuation.definition.directive.dockerfile
# ^^^^^^ keyword.control.directive.dockerfile
#        ^ string.unquoted.directive-value.dockerfile
# syntax=docker/dockerfile:1
# ^^^^^^ meta.directive.dockerfile keyword.control.directive.dockerfile
FROM mcr.microsoft.com/windows/servercore:ltsc2022
# <---- keyword.other.special-method.dockerfile
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
#       ^^^^^^^^^^ string.quoted.double.json.dockerfile
RUN New-Item -ItemType Directory C:\app ; `
#                                  ^^ - constant.character.escape.dockerfile
#                                         ^ constant.character.escape.line-continuation.dockerfile
    Write-Host "done`t"
#   ^^^^^^^^^^ meta.instruction.run.dockerfile
#                   ^^ string.quoted.double.dockerfile constant.character.escape.dockerfile
WORKDIR C:\app\
#             ^ - constant.character.escape.line-continuation.dockerfile
COPY . .
# <---- meta.instruction.copy.dockerfile keyword.other.special-method.dockerfile - meta.instruction.other.dockerfile
