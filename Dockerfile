# The manager image: a static binary that embeds the ResizeImage Lambda
# bundles, on distroless/static, running as a non-root user.
FROM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY controllers/ controllers/
COPY lambda/ lambda/
COPY hack/build-lambda.sh hack/build-lambda.sh
COPY main.go main.go
# The bundles are built for both Lambda architectures whatever the manager's
# own platform, and embedded into the manager.
RUN hack/build-lambda.sh
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -a -o manager .

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
