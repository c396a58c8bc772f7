# The controller image: one static binary (CGO_ENABLED=0) on distroless,
# running as the unprivileged user 65532.
#
#   make images                                   # $(IMG):$(TAG), this machine's platform
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/keyconform-controller:<tag> --push .
#
# The build stage runs on the build machine's platform and cross-compiles
# for the target's, as `make cross` does.
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
COPY controller/ controller/
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/keyconform-controller ./controller/cmd/keyconform-controller

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyconform-controller /keyconform-controller
USER 65532:65532
ENTRYPOINT ["/keyconform-controller"]
