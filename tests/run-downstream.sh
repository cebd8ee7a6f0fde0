#!/usr/bin/env bash
# Builds and runs the two downstream projects (tests/downstream-platform, tests/downstream-plain) against the convt
# artifacts in the local Maven repository, as a user's project would, and checks their dependency trees:
#   downstream-platform  dev.convt:convt-platform with -Djavacpp.platform=linux-x86_64: only linux-x86_64 natives;
#                        auto runs the sample layer on oneDNN (class path, then module path)
#   downstream-plain     dev.convt:convt alone: no native classifier jar at all; auto runs the same layer on the
#                        portable Java backend (module path), with the same result within convt's tolerance
# Run `mvn -B install -DskipTests` from the root first (.ci/run does both).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
platform=linux-x86_64
module_suffix=${platform//-/.}
version="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$root/pom.xml" | head -n 1)"

# The local repository is shared with whatever else runs `mvn install` on this machine: make sure the convt jar the
# projects will resolve is the one this tree just built, not an older or foreign one.
# (Debian's Maven 3.8 wraps even -q -B output in colour resets; strip them.)
repo="$(cd "$root" && mvn -q -B help:evaluate -Dexpression=settings.localRepository -DforceStdout \
  | sed 's/\x1b\[[0-9;]*m//g')"
installed="$repo/dev/convt/convt/$version/convt-$version.jar"
built="$root/java/target/convt-$version.jar"
if ! cmp -s "$installed" "$built"; then
  echo "run-downstream: $installed is not $built; run 'mvn -B install -DskipTests' from the root first" >&2
  exit 1
fi

# Both projects must run the same layer: their SampleLayer.java may differ only in the package line.
if ! diff <(tail -n +2 "$root/tests/downstream-platform/src/main/java/example/platform/SampleLayer.java") \
          <(tail -n +2 "$root/tests/downstream-plain/src/main/java/example/plain/SampleLayer.java") >/dev/null; then
  echo "run-downstream: the two SampleLayer.java differ; they must describe the same layer" >&2
  exit 1
fi

# Copies, built outside the repository, so that nothing of the convt build (its .mvn/maven.config, a parent POM)
# can help them: they see only what a user's project sees.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/downstream-platform" "$work/platform"
cp -r "$root/tests/downstream-plain" "$work/plain"

# Prints the artifacts of a `mvn dependency:tree -DoutputFile` file, one groupId:artifactId:type[:classifier]:version
# per line, with the tree drawing and the scope removed.
artifacts() {
  tail -n +2 "$1" | sed -e 's/^[-+|\\ ]*//' -e 's/ (.*)$//' -e 's/:[a-z]*$//'
}

# Fails (non-zero) when a dependency tree has a classified jar (natives) other than the allowed platform's; with no
# allowed platform, any classified jar fails. A classified artifact is groupId:artifactId:type:classifier:version.
check_classifiers() { # tree-file allowed-platform-or-empty
  local bad
  bad="$(artifacts "$1" | awk -F: -v ok="$2" 'NF == 5 && (ok == "" || $4 != ok)')"
  if [ -n "$bad" ]; then
    echo "run-downstream: $1 has native classifier jars it must not have:" >&2
    echo "$bad" >&2
    return 1
  fi
}

require_artifact() { # tree-file groupId:artifactId:type[:classifier]
  if ! artifacts "$1" | grep -q "^$2:"; then
    echo "run-downstream: $1 lacks $2" >&2
    return 1
  fi
}

# The check must be able to fail: feed it a tree with a leaked classifier first.
printf 'example:x:jar:1\n\\- org.bytedeco:dnnl:jar:%s:3.11-1.5.13:compile\n' "$platform" > "$work/leak.txt"
if check_classifiers "$work/leak.txt" "" 2>/dev/null; then
  echo "run-downstream: the classifier check passed a tree with a native jar; it is broken" >&2
  exit 1
fi
if check_classifiers "$work/leak.txt" "macosx-arm64" 2>/dev/null; then
  echo "run-downstream: the classifier check passed a foreign platform's jar; it is broken" >&2
  exit 1
fi

build() { # project-dir extra-maven-args...
  local dir="$1"
  shift
  (cd "$dir" && mvn -B -q "-Dconvt.version=$version" "$@" compile dependency:tree "-DoutputFile=$dir/tree.txt" \
    dependency:copy-dependencies "-DoutputDirectory=$dir/lib" -DincludeScope=runtime)
}

echo "== downstream-platform: dev.convt:convt-platform:$version, -Djavacpp.platform=$platform"
build "$work/platform" "-Djavacpp.platform=$platform"
cat "$work/platform/tree.txt"
check_classifiers "$work/platform/tree.txt" "$platform"
for a in dev.convt:convt:jar org.bytedeco:dnnl:jar:$platform org.bytedeco:javacpp:jar:$platform \
         org.bytedeco:opencl:jar:$platform; do
  require_artifact "$work/platform/tree.txt" "$a"
done
java -cp "$work/platform/target/classes:$work/platform/lib/*" example.platform.Main "$work/onednn.npy"
# On the module path the natives' modules are not required by anything, so they are added by name (see README).
java --module-path "$work/platform/target/classes:$work/platform/lib" \
  --add-modules "org.bytedeco.dnnl.$module_suffix,org.bytedeco.javacpp.$module_suffix,org.bytedeco.opencl.$module_suffix" \
  -m example.platform/example.platform.Main "$work/onednn-module-path.npy"

echo "== downstream-plain: dev.convt:convt:$version alone"
build "$work/plain"
cat "$work/plain/tree.txt"
check_classifiers "$work/plain/tree.txt" ""
require_artifact "$work/plain/tree.txt" dev.convt:convt:jar
require_artifact "$work/plain/tree.txt" org.bytedeco:dnnl:jar
java --module-path "$work/plain/target/classes:$work/plain/lib" -m example.plain/example.plain.Main "$work/onednn.npy"

echo "downstream projects: OK"
