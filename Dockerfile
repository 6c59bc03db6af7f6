# Dockerfile: Debian 12 with everything the workspace's examples and tests need, for readers
# without a Linux machine (README.md, "No Linux machine?"). The image holds the tools only;
# the workspace is the folder you mount at /workspace, so what you edit on your machine is
# what builds in the container.
#
#   docker build -t async-workspace .
#   docker run --rm -it --ulimit nofile=8192:8192 --security-opt seccomp=unconfined \
#     -v "$PWD":/workspace async-workspace
#   (then, inside: ./run-example ch03-epoll, ./run-tests)
#
# Or open the folder in VS Code and pick "Reopen in Container" (.devcontainer/).
#
# A Dockerfile cannot set those two options; `docker run` and devcontainer.json's runArgs
# do. --ulimit nofile: the open-file limit, often 1,024 in a container, and the test
# delayserver-many-waiting needs about 2,100 descriptors. --security-opt
# seccomp=unconfined: the usual container profiles refuse io_uring_setup, and
# ch03-io-uring then says so and its tests are reported skipped.
#
# The packages are those tools/install-prerequisites.sh installs for `test`, so this file
# keeps no list of its own. On an ARM64 machine the image is an ARM64 Debian, with the
# native ARM64 set (no Windows build, no cross compiler): see README.md.
#
# BASE: the Debian 12 image to start from. tools/check-container, which builds this file
# on a machine with no image registry, passes one made with debootstrap.
ARG BASE=debian:12
FROM ${BASE}
COPY tools/install-prerequisites.sh /usr/local/lib/async-workspace/install-prerequisites.sh
RUN /usr/local/lib/async-workspace/install-prerequisites.sh test \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /workspace
CMD ["bash"]
