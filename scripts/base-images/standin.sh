#!/bin/sh
# Dockerfile Cache Lens - stand-in toolchain for the private test engine's base images.
#
# One multi-call script: installed as /usr/local/bin/dcl-standin inside the
# image, with a symlink per tool name (npm, pip, go, ...). It never touches the
# network; it only leaves small, plausible, DETERMINISTIC files behind (no
# timestamps, no random data), so identical inputs give identical outputs.
# Runs under busybox ash.

TOOL=$(basename "$0")
HOME=${HOME:-/root}
[ "$HOME" = / ] && HOME=/root

say() { echo "[dcl stand-in $TOOL] $*"; }

# sha256 of a file, or "absent"
h() { if [ -f "$1" ]; then sha256sum "$1" | cut -c1-64; else echo absent; fi; }

# sha256 over the files of a directory tree (paths + contents), skipping outputs
tree_hash() {
  ( cd "${1:-.}" 2>/dev/null || { echo absent; exit 0; }
    find . -type f \
      ! -path './node_modules/*' ! -path './dist/*' ! -path './build/*' \
      ! -path './target/*' ! -path './.git/*' ! -path './vendor/*' \
      ! -path './obj/*' ! -path './bin/*' ! -path './out/*' ! -path './.venv/*' \
      -exec sha256sum {} + 2>/dev/null | sort -k2 | sha256sum | cut -c1-64 )
}

# string hash
sh_str() { printf '%s' "$*" | sha256sum | cut -c1-64; }

write_exe() { # write_exe PATH DESCRIPTION
  mkdir -p "$(dirname "$1")"
  printf '#!/bin/sh\necho "%s"\n' "$2" > "$1"
  chmod 755 "$1"
}

# ---------------------------------------------------------------- node family
node_install() { # node_install [pkgs...]
  mkdir -p node_modules
  {
    echo "tool=$TOOL"
    echo "package.json=$(h package.json)"
    for l in package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml; do
      [ -f "$l" ] && echo "$l=$(h "$l")"
    done
    [ $# -gt 0 ] && echo "packages=$*"
  } > node_modules/.installed
  key=$(sha256sum node_modules/.installed | cut -c1-64)
  case "$TOOL" in
    npm) cdir="$HOME/.npm/_cacache" ;;
    yarn) cdir="${YARN_CACHE_FOLDER:-$HOME/.cache/yarn}" ;;
    pnpm) cdir="${PNPM_STORE_DIR:-$HOME/.local/share/pnpm/store}" ;;
    *) cdir="$HOME/.cache/$TOOL" ;;
  esac
  mkdir -p "$cdir" && echo "$key" > "$cdir/dcl-$key"
  for p in "$@"; do
    n=${p%@*}; [ -z "$n" ] && n=$p
    mkdir -p "node_modules/$n" && echo "{\"name\":\"$n\"}" > "node_modules/$n/package.json"
  done
  say "added packages (package.json $(h package.json | cut -c1-12))"
}

node_global() {
  mkdir -p /usr/local/lib/node_modules
  for p in "$@"; do echo "$p" >> /usr/local/lib/node_modules/.global-installed; done
  say "installed globally: $*"
}

node_build() {
  src=.; [ -d src ] && src=src
  hs=$(tree_hash "$src")
  mkdir -p dist
  printf '// built by dcl stand-in %s\n// sources=%s\nconsole.log("hello");\n' "$TOOL" "$hs" > dist/index.js
  if [ -f package.json ] && grep -q react-scripts package.json; then
    mkdir -p build && cp dist/index.js build/index.js && echo '<html></html>' > build/index.html
  fi
  if [ -f package.json ] && grep -q '"next"' package.json; then
    mkdir -p .next && echo "$hs" > .next/BUILD_ID
  fi
  say "built dist/ (sources $(echo "$hs" | cut -c1-12))"
}

node_run() { # node_run SCRIPT
  case "$1" in
    build|build:*|compile|bundle) node_build ;;
    *) say "ran script '$1'" ;;
  esac
}

npm_main() {
  cmd=$1; [ $# -gt 0 ] && shift
  global=0; pkgs=""
  case "$cmd" in
    ci|install|i|add|isntall|update|up)
      for a in "$@"; do
        case "$a" in -g|--global) global=1 ;; -*) ;; *) pkgs="$pkgs $a" ;; esac
      done
      # shellcheck disable=SC2086
      if [ $global = 1 ]; then node_global $pkgs; else node_install $pkgs; fi ;;
    run|run-script) node_run "${1:-}" ;;
    build) node_build ;;
    test|t|start) say "ran $cmd" ;;
    -v|--version|version) echo "10.5.0" ;;
    fetch) node_install ;;
    ""|help) say "usage: $TOOL <command>" ;;
    *) if [ "$TOOL" = npm ]; then say "$cmd $*"
       else case "$cmd" in
         prune|cache|config|set|store|why|list|ls|audit|dlx|exec) say "$cmd $*" ;;
         *) node_run "$cmd" ;;   # yarn build / pnpm build
       esac; fi ;;
  esac
}

yarn_main() {
  [ $# -eq 0 ] && set -- install
  case "$1" in
    --version|-v) echo "1.22.19" ;;
    -*) node_install ;;
    *) npm_main "$@" ;;
  esac
}

# --------------------------------------------------------------- python family
site_dir() {
  if [ -n "${VIRTUAL_ENV:-}" ]; then echo "$VIRTUAL_ENV/lib/python3/site-packages"; return; fi
  d=$(cd "$(dirname "$0")/.." 2>/dev/null && pwd)
  if [ -n "$d" ] && [ -f "$d/pyvenv.cfg" ]; then echo "$d/lib/python3/site-packages"; return; fi
  echo /usr/local/lib/python3/site-packages
}

req_names() { # print package names from a requirements file
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" 2>/dev/null | grep -v '^-' | grep -v '^$' \
    | sed -e 's/[=<>!~;\[@].*//' | tr 'A-Z' 'a-z'
}

pip_main() {
  cmd=$1; [ $# -gt 0 ] && shift
  case "$cmd" in
    install)
      site=$(site_dir); reqs=""; names=""; next=""
      for a in "$@"; do
        if [ -n "$next" ]; then
          case "$next" in r) reqs="$reqs $a" ;; t) site=$a ;; prefix) site="$a/lib/python3/site-packages" ;; esac
          next=""; continue
        fi
        case "$a" in
          -r|--requirement|-c|--constraint) next=r ;;
          -r*) reqs="$reqs ${a#-r}" ;;
          --requirement=*) reqs="$reqs ${a#*=}" ;;
          -t|--target) next=t ;;
          --target=*) site=${a#*=} ;;
          --prefix) next=prefix ;;
          --prefix=*) site="${a#*=}/lib/python3/site-packages" ;;
          -e|--editable) ;;
          -i|--index-url|--extra-index-url|-f|--find-links|--cache-dir|--root) next=skip ;;
          -*) ;;
          .|./*|/*) names="$names $(basename "$(cd "$a" 2>/dev/null && pwd || echo local)")" ;;
          *) names="$names $(echo "$a" | sed -e 's/[=<>!~;\[@].*//' | tr 'A-Z' 'a-z')" ;;
        esac
      done
      mkdir -p "$site"
      desc=""
      for r in $reqs; do
        desc="$desc$r=$(h "$r")
"
        names="$names $(req_names "$r" | tr '\n' ' ')"
      done
      for n in $names; do desc="${desc}package=$n
"; done
      key=$(sh_str "$desc")
      printf '%s' "$desc" > "$site/dcl-$key.installed"
      for n in $names; do
        mkdir -p "$site/$n" && echo "# stand-in for $n" > "$site/$n/__init__.py"
      done
      mkdir -p "$HOME/.cache/pip" && echo "$key" > "$HOME/.cache/pip/dcl-$key"
      say "Successfully installed$( [ -n "$(echo $names)" ] && echo " $(echo $names)")" ;;
    wheel)
      out=wheels; prev=""
      for a in "$@"; do [ "$prev" = "-w" ] || [ "$prev" = "--wheel-dir" ] && out=$a; prev=$a; done
      mkdir -p "$out" && echo "stand-in wheel" > "$out/dcl_standin-0.0.0-py3-none-any.whl"
      say "built wheels into $out" ;;
    freeze|list) ls "$(site_dir)" 2>/dev/null | grep -v '^dcl-' || true ;;
    --version|-V) echo "pip 24.0 from $(site_dir)/pip (python 3.12)" ;;
    *) say "$cmd $*" ;;
  esac
}

make_venv() { # make_venv DIR
  d=${1:-.venv}
  mkdir -p "$d/bin" "$d/lib/python3/site-packages"
  printf 'home = /usr/local/bin\nversion = 3.12.3\n' > "$d/pyvenv.cfg"
  for t in python python3 pip pip3; do ln -sf /usr/local/bin/dcl-standin "$d/bin/$t"; done
  abs=$(cd "$d" && pwd)
  printf 'VIRTUAL_ENV=%s\nexport VIRTUAL_ENV\nPATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n' "$abs" > "$d/bin/activate"
  say "created virtual environment $d"
}

python_main() {
  case "${1:-}" in
    -m)
      mod=${2:-}; shift 2 2>/dev/null || shift $#
      case "$mod" in
        pip) pip_main "$@" ;;
        venv|virtualenv) dir=""; for a in "$@"; do case "$a" in -*) ;; *) dir=$a ;; esac; done; make_venv "$dir" ;;
        *) say "python -m $mod $*" ;;
      esac ;;
    --version|-V) echo "Python 3.12.3" ;;
    -c) say "python -c (ignored)" ;;
    "") say "no script" ;;
    *) say "ran $*" ;;
  esac
}

poetry_main() {
  case "${1:-}" in
    install|sync)
      site=$(site_dir); mkdir -p "$site"
      key=$(sh_str "pyproject=$(h pyproject.toml) lock=$(h poetry.lock) args=$*")
      printf 'pyproject.toml=%s\npoetry.lock=%s\n' "$(h pyproject.toml)" "$(h poetry.lock)" > "$site/dcl-poetry-$key.installed"
      say "Installing dependencies from lock file" ;;
    export)
      out=""; prev=""
      for a in "$@"; do case "$prev" in -o|--output) out=$a ;; esac; case "$a" in --output=*) out=${a#*=} ;; esac; prev=$a; done
      if [ -n "$out" ]; then printf '# exported by dcl stand-in from poetry.lock %s\n' "$(h poetry.lock)" > "$out"
      else printf '# exported by dcl stand-in from poetry.lock %s\n' "$(h poetry.lock)"; fi ;;
    build) mkdir -p dist && echo "wheel $(tree_hash .)" > dist/app-0.1.0-py3-none-any.whl; say "built dist/" ;;
    --version) echo "Poetry (version 1.8.2)" ;;
    *) say "$*" ;;
  esac
}

uv_main() {
  case "${1:-}" in
    sync)
      make_venv .venv >/dev/null
      printf 'pyproject.toml=%s\nuv.lock=%s\n' "$(h pyproject.toml)" "$(h uv.lock)" > .venv/lib/python3/site-packages/dcl-uv.installed
      mkdir -p "${UV_CACHE_DIR:-$HOME/.cache/uv}"
      say "Resolved and installed (.venv)" ;;
    pip) shift; pip_main "$@" ;;
    venv) shift; make_venv "${1:-.venv}" ;;
    --version) echo "uv 0.4.0" ;;
    *) say "$*" ;;
  esac
}

# ------------------------------------------------------------ system packages
pkgs_of() { skip=0; for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case "$a" in -t|-o|--virtual|-X|--repository|-c) skip=1 ;; -*) ;; *) echo "$a" ;; esac
done; }

apt_main() {
  cmd=""; for a in "$@"; do case "$a" in -*) ;; *) cmd=$a; break ;; esac; done
  case "$cmd" in
    update) mkdir -p /var/lib/apt/lists/partial && echo "stand-in package lists" > /var/lib/apt/lists/dcl-standin_Packages
            say "Reading package lists... Done" ;;
    install)
      mkdir -p /var/lib/dcl/apt
      seen=0
      for p in $(pkgs_of "$@"); do
        if [ $seen = 0 ]; then [ "$p" = install ] && seen=1; continue; fi
        p=${p%%=*}; echo "$p" > "/var/lib/dcl/apt/$p"; echo "Setting up $p (stand-in) ..."
      done ;;
    remove|purge|autoremove|clean|upgrade|dist-upgrade|autoclean) say "$cmd done" ;;
    *) say "$*" ;;
  esac
}

apk_main() {
  cmd=""; for a in "$@"; do case "$a" in -*) ;; *) cmd=$a; break ;; esac; done
  case "$cmd" in
    add)
      mkdir -p /var/lib/dcl/apk; seen=0
      for p in $(pkgs_of "$@"); do
        if [ $seen = 0 ]; then [ "$p" = add ] && seen=1; continue; fi
        p=${p%%=*}; echo "$p" > "/var/lib/dcl/apk/$p"; echo "(stand-in) Installing $p"
      done
      say "OK" ;;
    del) for p in $(pkgs_of "$@"); do rm -f "/var/lib/dcl/apk/$p"; done; say "OK" ;;
    *) say "$cmd OK" ;;
  esac
}

# --------------------------------------------------------------------- go
go_main() {
  cmd=${1:-}; [ $# -gt 0 ] && shift
  gopath=${GOPATH:-/go}
  name=$(basename "$PWD")
  [ -f go.mod ] && name=$(sed -n 's/^module[[:space:]]*//p' go.mod | head -n1 | sed 's#.*/##')
  [ -z "$name" ] && name=app
  case "$cmd" in
    mod)
      case "${1:-}" in
        download)
          d="${GOMODCACHE:-$gopath/pkg/mod}/cache/download"; mkdir -p "$d"
          key=$(sh_str "$(h go.mod) $(h go.sum)")
          printf 'go.mod=%s\ngo.sum=%s\n' "$(h go.mod)" "$(h go.sum)" > "$d/dcl-$key.downloaded"
          say "downloaded modules" ;;
        *) say "mod $*" ;;
      esac ;;
    build|install)
      out=""; next=""; pkg=""
      for a in "$@"; do
        if [ -n "$next" ]; then [ "$next" = o ] && out=$a; next=""; continue; fi
        case "$a" in
          -o) next=o ;;
          -o=*) out=${a#-o=} ;;
          -ldflags|-tags|-gcflags|-asmflags|-mod|-p|-pkgdir|-buildmode|-compiler|-installsuffix|-modfile|-overlay|-pgo) next=skip ;;
          -*) ;;
          *) pkg=$a ;;
        esac
      done
      case "$pkg" in ./cmd/*|cmd/*) name=$(basename "$pkg") ;; esac
      if [ "$cmd" = install ]; then out="${GOBIN:-$gopath/bin}/$name"; fi
      [ -z "$out" ] && out=$name
      case "$out" in */) out="$out$name" ;; esac
      [ -d "$out" ] && out="$out/$name"
      write_exe "$out" "$name (dcl stand-in go binary, sources $(tree_hash . | cut -c1-16))"
      mkdir -p "${GOCACHE:-$HOME/.cache/go-build}"
      say "built $out" ;;
    version) echo "go version go1.22.2 linux/amd64" ;;
    env) [ -n "${1:-}" ] && { case "$1" in GOPATH) echo "$gopath" ;; GOCACHE) echo "${GOCACHE:-$HOME/.cache/go-build}" ;; *) echo "" ;; esac; } || echo "GOPATH=$gopath" ;;
    *) say "$cmd $*" ;;
  esac
}

# ------------------------------------------------------------------ cargo
cargo_main() {
  cmd=${1:-}; [ $# -gt 0 ] && shift
  chome=${CARGO_HOME:-/usr/local/cargo}
  name=app
  [ -f Cargo.toml ] && name=$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' Cargo.toml | head -n1)
  [ -z "$name" ] && name=app
  profile=debug
  for a in "$@"; do case "$a" in --release|-r) profile=release ;; esac; done
  case "$cmd" in
    build|b)
      write_exe "target/$profile/$name" "$name (dcl stand-in rust binary, sources $(tree_hash . | cut -c1-16))"
      say "Finished $profile target(s)" ;;
    fetch)
      mkdir -p "$chome/registry/cache"; key=$(sh_str "$(h Cargo.toml) $(h Cargo.lock)")
      printf 'Cargo.toml=%s\nCargo.lock=%s\n' "$(h Cargo.toml)" "$(h Cargo.lock)" > "$chome/registry/cache/dcl-$key.fetched"
      say "fetched" ;;
    install)
      p=""; for a in "$@"; do case "$a" in -*) ;; *) p=$a ;; esac; done
      [ -z "$p" ] || [ "$p" = . ] && p=$name
      write_exe "$chome/bin/$p" "$p (dcl stand-in)"; say "installed $p" ;;
    --version|-V) echo "cargo 1.77.2" ;;
    *) say "$cmd $*" ;;
  esac
}

# ------------------------------------------------------------------ jvm
mvn_main() {
  goals=""; for a in "$@"; do case "$a" in -*) ;; *) goals="$goals $a" ;; esac; done
  repo="$HOME/.m2/repository"
  for g in $goals; do
    case "$g" in
      dependency:go-offline|dependency:resolve|dependency:resolve-plugins|dependency:*)
        mkdir -p "$repo"; key=$(sh_str "$(h pom.xml)")
        echo "pom.xml=$(h pom.xml)" > "$repo/dcl-$key.resolved"; say "resolved dependencies" ;;
      package|install|verify|deploy|spring-boot:repackage)
        mkdir -p target "$repo"
        echo "jar $(tree_hash . | cut -c1-16)" > target/app.jar; say "BUILD SUCCESS target/app.jar" ;;
      *) say "goal $g" ;;
    esac
  done
  case "${1:-}" in -v|--version) echo "Apache Maven 3.9.6" ;; esac
}

gradle_main() {
  for a in "$@"; do
    case "$a" in
      build|assemble|bootJar|jar|shadowJar|installDist)
        mkdir -p build/libs; echo "jar $(tree_hash . | cut -c1-16)" > build/libs/app.jar; say "BUILD SUCCESSFUL" ;;
      dependencies|--refresh-dependencies|resolveDependencies|downloadDependencies)
        d="${GRADLE_USER_HOME:-$HOME/.gradle}/caches"; mkdir -p "$d"
        key=$(sh_str "$(h build.gradle) $(h build.gradle.kts) $(h settings.gradle) $(h settings.gradle.kts)")
        echo "$key" > "$d/dcl-$key.resolved"; say "dependencies resolved" ;;
      --version|-v) echo "Gradle 8.7" ;;
    esac
  done
}

# ------------------------------------------------------------ ruby / php / .net
bundle_main() {
  case "${1:-install}" in
    install)
      d=${BUNDLE_PATH:-/usr/local/bundle}; mkdir -p "$d"
      key=$(sh_str "$(h Gemfile) $(h Gemfile.lock)")
      printf 'Gemfile=%s\nGemfile.lock=%s\n' "$(h Gemfile)" "$(h Gemfile.lock)" > "$d/dcl-$key.installed"
      say "Bundle complete!" ;;
    --version|-v) echo "Bundler version 2.5.6" ;;
    *) say "$*" ;;
  esac
}

composer_main() {
  cmd=""; for a in "$@"; do case "$a" in -*) ;; *) cmd=$a; break ;; esac; done
  case "$cmd" in
    install|update|require)
      mkdir -p vendor/composer
      printf 'composer.json=%s\ncomposer.lock=%s\n' "$(h composer.json)" "$(h composer.lock)" > vendor/composer/installed.json
      printf '<?php\n// dcl stand-in autoloader\n' > vendor/autoload.php; say "Generating autoload files" ;;
    dump-autoload|dumpautoload) mkdir -p vendor && printf '<?php\n// dcl stand-in autoloader\n' > vendor/autoload.php; say "Generated autoload files" ;;
    *) say "$*" ;;
  esac
}

dotnet_main() {
  cmd=${1:-}; [ $# -gt 0 ] && shift
  case "$cmd" in
    restore)
      mkdir -p obj "$HOME/.nuget/packages"
      { for f in *.csproj *.fsproj *.sln; do [ -f "$f" ] && echo "$f=$(h "$f")"; done; } > obj/project.assets.json
      say "Restored" ;;
    build) mkdir -p bin/Release/net8.0 && echo "dll $(tree_hash . | cut -c1-16)" > bin/Release/net8.0/app.dll; say "Build succeeded." ;;
    publish)
      out=bin/Release/net8.0/publish; prev=""
      for a in "$@"; do case "$prev" in -o|--output) out=$a ;; esac; case "$a" in --output=*) out=${a#*=} ;; esac; prev=$a; done
      mkdir -p "$out" && echo "dll $(tree_hash . | cut -c1-16)" > "$out/app.dll"; say "published to $out" ;;
    --version) echo "8.0.100" ;;
    *) say "$cmd $*" ;;
  esac
}

# ------------------------------------------------------------ users / misc
user_add() { # user_add style args...
  style=$1; shift
  uid=""; grp=""; name=""; next=""
  for a in "$@"; do
    if [ -n "$next" ]; then case "$next" in u) uid=$a ;; g) grp=$a ;; esac; next=""; continue; fi
    case "$a" in
      -u|--uid) next=u ;;
      -g|-G|--gid|--ingroup|--group) next=g ;;
      -h|--home|-d|--home-dir|-s|--shell|-c|--comment|-k|-K) next=skip ;;
      -*) ;;
      *) if [ -z "$name" ]; then name=$a; elif [ "$style" = user ]; then grp=$a; fi ;;
    esac
  done
  [ -z "$name" ] && { say "missing name"; return 0; }
  if [ "$style" = group ]; then
    grep -q "^$name:" /etc/group && return 0
    [ -z "$uid" ] && uid=$((1000 + $(wc -l < /etc/group)))
    echo "$name:x:$uid:" >> /etc/group
  else
    grep -q "^$name:" /etc/passwd && return 0
    [ -z "$uid" ] && uid=$((1000 + $(wc -l < /etc/passwd)))
    gid=$uid
    if [ -n "$grp" ]; then g=$(grep "^$grp:" /etc/group | cut -d: -f3); [ -n "$g" ] && gid=$g; fi
    grep -q "^$name:" /etc/group || [ -n "$grp" ] || echo "$name:x:$gid:" >> /etc/group
    echo "$name:x:$uid:$gid:$name:/home/$name:/bin/sh" >> /etc/passwd
    echo "$name:!:19000:0:99999:7:::" >> /etc/shadow
    mkdir -p "/home/$name" && chown "$uid:$gid" "/home/$name"
  fi
}

curl_main() {
  out=""; remote=0; url=""; prev=""
  for a in "$@"; do
    case "$prev" in -o|--output) out=$a ;; esac
    case "$a" in -O|--remote-name) remote=1 ;; http://*|https://*|ftp://*) url=$a ;; esac
    prev=$a
  done
  [ $remote = 1 ] && [ -z "$out" ] && out=$(basename "$url")
  if [ -n "$out" ]; then echo "# dcl stand-in download of $url" > "$out"; else echo "# dcl stand-in download of $url"; fi
}

case "$TOOL" in
  npm) npm_main "$@" ;;
  yarn) yarn_main "$@" ;;
  pnpm) [ $# -eq 0 ] && set -- install; npm_main "$@" ;;
  node|nodejs)
    case "${1:-}" in -v|--version) echo "v20.12.2" ;; *) say "ran $*" ;; esac ;;
  pip|pip3) pip_main "$@" ;;
  python|python3) python_main "$@" ;;
  poetry) poetry_main "$@" ;;
  uv) uv_main "$@" ;;
  apt-get|apt) apt_main "$@" ;;
  apk) apk_main "$@" ;;
  go) go_main "$@" ;;
  cargo) cargo_main "$@" ;;
  mvn) mvn_main "$@" ;;
  gradle) gradle_main "$@" ;;
  bundle|bundler) bundle_main "$@" ;;
  composer) composer_main "$@" ;;
  dotnet) dotnet_main "$@" ;;
  java) case "${1:-}" in -version|--version) echo 'openjdk version "17.0.10"' ;; *) say "ran $*" ;; esac ;;
  useradd|adduser) user_add user "$@" ;;
  groupadd|addgroup) user_add group "$@" ;;
  curl) curl_main "$@" ;;
  bash) exec /bin/sh "$@" ;;
  *) say "$*" ;;   # generic: succeed quietly (npx, gem, ruby, php, rustup, ...)
esac
exit 0
