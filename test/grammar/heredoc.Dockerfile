# SYNTAX TEST "source.dockerfile" "heredocs on RUN, COPY and ADD"
RUN --mount=type=cache,target=/var/cache/apt <<EOF
#           ^^^^ variable.parameter.option.dockerfile
#                                            ^^ meta.heredoc.dockerfile keyword.operator.heredoc.dockerfile
#                                              ^^^ meta.heredoc.dockerfile keyword.control.heredoc-token.dockerfile
set -eux
# <-------- meta.instruction.run.dockerfile meta.heredoc.dockerfile meta.embedded.block.shellscript
apt-get update # a shell comment
# <------- meta.embedded.block.shellscript - comment
#              ^^^^^^^^^^^^^^^^^ meta.embedded.block.shellscript comment.line.number-sign.shell
FROM not-an-instruction-here
# <---- meta.embedded.block.shellscript - keyword.other.special-method.dockerfile
echo "an unclosed shell string
#    ^ meta.embedded.block.shellscript string.quoted.double.shell
EOF
# <--- meta.heredoc.dockerfile keyword.control.heredoc-token.dockerfile - meta.embedded.block.shellscript string.quoted.double.shell
WORKDIR /app
# <------- meta.instruction.other.dockerfile keyword.other.special-method.dockerfile - meta.heredoc.dockerfile
RUN <<-EOF
#   ^^^ keyword.operator.heredoc.dockerfile
#      ^^^ keyword.control.heredoc-token.dockerfile
	echo $HOME
#     ^^^^^ meta.embedded.block.shellscript variable.other.normal.shell
	EOF
#^^^ keyword.control.heredoc-token.dockerfile - meta.embedded.block.shellscript
RUN <<'EOF' bash -ex
#     ^^^^^ keyword.control.heredoc-token.dockerfile
#           ^^^^ meta.heredoc.dockerfile - meta.embedded.block.shellscript
	EOF
#^^^ meta.embedded.block.shellscript - keyword.control.heredoc-token.dockerfile
EOF
# <--- keyword.control.heredoc-token.dockerfile
RUN python3 <<"PY"
#   ^^^^^^^ meta.instruction.run.dockerfile - meta.heredoc.dockerfile
#             ^^^^ keyword.control.heredoc-token.dockerfile
#!/usr/bin/env python3
# <---------------------- meta.embedded.block.shellscript
print("embedded as shell, not python")
# <----- meta.embedded.block.shellscript
PY
# <-- keyword.control.heredoc-token.dockerfile
COPY --chmod=644 <<EOF /etc/app.conf
#    ^^^^^^^ entity.other.attribute-name.flag.dockerfile
#                ^^ meta.instruction.copy.dockerfile meta.heredoc.dockerfile keyword.operator.heredoc.dockerfile
#                      ^^^^^^^^^^^^^ meta.heredoc.dockerfile - string.unquoted.heredoc.dockerfile
listen = $PORT # not a comment
# <------------------------------ meta.heredoc.dockerfile string.unquoted.heredoc.dockerfile - meta.embedded.block.shellscript comment variable
EOF
# <--- keyword.control.heredoc-token.dockerfile - string.unquoted.heredoc.dockerfile
ADD <<-"END" /x
#      ^^^^^ meta.instruction.copy.dockerfile keyword.control.heredoc-token.dockerfile
	text
#^^^^ string.unquoted.heredoc.dockerfile
	END
#^^^ keyword.control.heredoc-token.dockerfile
COPY <<robots.txt <<humans.txt /usr/share/nginx/html/
#      ^^^^^^^^^^ keyword.control.heredoc-token.dockerfile
#    ^^ keyword.operator.heredoc.dockerfile
#                 ^^ keyword.operator.heredoc.dockerfile
#                   ^^^^^^^^^^ keyword.control.heredoc-token.dockerfile
User-agent: *
# <------------- string.unquoted.heredoc.dockerfile
robots.txt
# <---------- keyword.control.heredoc-token.dockerfile
Built by people
# <--------------- meta.heredoc.dockerfile string.unquoted.heredoc.dockerfile
humans.txt
# <---------- keyword.control.heredoc-token.dockerfile - string.unquoted.heredoc.dockerfile
RUN <<FILE1 cat > /a && <<FILE2 cat > /b
#     ^^^^^ keyword.control.heredoc-token.dockerfile
#                    ^^ meta.heredoc.dockerfile keyword.operator.logical.dockerfile
#                         ^^^^^ keyword.control.heredoc-token.dockerfile
one "unclosed
# <--- meta.embedded.block.shellscript
FILE1
# <----- keyword.control.heredoc-token.dockerfile - string.quoted.double.shell
two
# <--- meta.embedded.block.shellscript
FILE2
# <----- keyword.control.heredoc-token.dockerfile - meta.embedded.block.shellscript
ONBUILD RUN <<EOF
#             ^^^ meta.instruction.onbuild.dockerfile meta.instruction.run.dockerfile keyword.control.heredoc-token.dockerfile
make
# <---- meta.instruction.onbuild.dockerfile meta.embedded.block.shellscript
EOF
# <--- keyword.control.heredoc-token.dockerfile
RUN cat <<<"a here-string, not a heredoc"
#       ^^^ - keyword.operator.heredoc.dockerfile
#          ^ string.quoted.double.dockerfile - meta.heredoc.dockerfile
CMD ["echo", "<<EOF"]
#             ^^^^^ string.quoted.double.json.dockerfile - meta.heredoc.dockerfile
LABEL a=b
# <----- keyword.other.special-method.dockerfile
