/*
 * softroce.h - the hosted softroce NDK provider's C entry points, and the
 * NDKPI 2.1 types a C caller needs to reach NdkQueryAdapterInfo through
 * (*adapter)->Dispatch.  Layouts match the Rust definitions in src/abi
 * (x64: NDK_OBJECT_HEADER 0x28, NDK_ADAPTER 0x30, NDK_ADAPTER_DISPATCH 0x48,
 * NDK_ADAPTER_INFO 0x68); tests/c/open_adapter.c checks every offset.
 *
 * Link with -lsoftroce (libsoftroce.so, built by `cargo build --lib`).
 * See docs/HOSTED-API.md.
 */
#ifndef SOFTROCE_H
#define SOFTROCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NDK provider functions use the Windows "system" convention; everywhere
 * but 32-bit Windows that is the plain C convention. */
#if defined(_WIN32)
#define SOFTROCE_NDKAPI __stdcall
#else
#define SOFTROCE_NDKAPI
#endif

typedef int32_t NTSTATUS;
typedef uint32_t ULONG;
typedef uint16_t USHORT;
typedef uint8_t BOOLEAN;
typedef size_t SIZE_T;

/* ---- status values the entry points and the adapter table return ------- */
#define STATUS_SUCCESS                ((NTSTATUS)0x00000000)
#define STATUS_PENDING                ((NTSTATUS)0x00000103)
#define STATUS_NOT_IMPLEMENTED        ((NTSTATUS)0xC0000002u)
#define STATUS_INVALID_HANDLE         ((NTSTATUS)0xC0000008u)
#define STATUS_INVALID_PARAMETER      ((NTSTATUS)0xC000000Du)
#define STATUS_BUFFER_TOO_SMALL       ((NTSTATUS)0xC0000023u)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009Au)
#define STATUS_NOT_SUPPORTED          ((NTSTATUS)0xC00000BBu)
#define STATUS_INVALID_ADDRESS        ((NTSTATUS)0xC0000141u)
#define NDIS_STATUS_BAD_VERSION       ((NTSTATUS)0xC0010004u)
#define NT_SUCCESS(s)                 (((NTSTATUS)(s)) >= 0)

/* ---- NDK_VERSION --------------------------------------------------------- */
typedef struct _NDK_VERSION {
    USHORT Major;
    USHORT Minor;
} NDK_VERSION;

/* ---- object header -------------------------------------------------------- */
typedef enum _NDK_OBJECT_TYPE {
    NdkObjectTypeUndefined = 0,
    NdkObjectTypeAdapter = 1,
    NdkObjectTypeQp = 2,
    NdkObjectTypeCq = 3,
    NdkObjectTypeMr = 4,
    NdkObjectTypeMw = 5,
    NdkObjectTypePd = 6,
    NdkObjectTypeSharedEndpoint = 7,
    NdkObjectTypeConnector = 8,
    NdkObjectTypeListener = 9,
    NdkObjectTypeSrq = 10,
    NdkObjectTypeMax = 11
} NDK_OBJECT_TYPE;

typedef struct _NDK_OBJECT_HEADER_RESERVED_BLOCK {
    void *rf[4];
} NDK_OBJECT_HEADER_RESERVED_BLOCK;

typedef struct _NDK_OBJECT_HEADER {
    NDK_VERSION Version;
    NDK_OBJECT_TYPE ObjectType;
    NDK_OBJECT_HEADER_RESERVED_BLOCK NdkReserved; /* zero; not the provider's */
} NDK_OBJECT_HEADER;

/* ---- NDK_ADAPTER_INFO ------------------------------------------------------ */
typedef enum _NDK_RDMA_TECHNOLOGY {
    NdkUndefined = 0,
    NdkiWarp = 1,
    NdkInfiniBand = 2,
    NdkRoCE = 3,
    NdkRoCEv2 = 4,
    NdkMaxTechnology = 5
} NDK_RDMA_TECHNOLOGY;

#define NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED              0x00000001u
#define NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED         0x00000002u
#define NDK_ADAPTER_FLAG_CQ_INTERRUPT_MODERATION_SUPPORTED   0x00000004u
#define NDK_ADAPTER_FLAG_MULTI_ENGINE_SUPPORTED              0x00000008u
#define NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED 0x00000010u
#define NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED                 0x00000100u
#define NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED      0x00010000u

typedef struct _NDK_ADAPTER_INFO {
    NDK_VERSION Version;
    ULONG VendorId;
    ULONG DeviceId;
    SIZE_T MaxRegistrationSize;
    SIZE_T MaxWindowSize;
    ULONG FRMRPageCount;
    ULONG MaxInitiatorRequestSge;
    ULONG MaxReceiveRequestSge;
    ULONG MaxReadRequestSge;
    ULONG MaxTransferLength;
    ULONG MaxInlineDataSize;
    ULONG MaxInboundReadLimit;
    ULONG MaxOutboundReadLimit;
    ULONG MaxReceiveQueueDepth;
    ULONG MaxInitiatorQueueDepth;
    ULONG MaxSrqDepth;        /* 0 would mean: no SRQ */
    ULONG MaxCqDepth;
    ULONG LargeRequestThreshold;
    ULONG MaxCallerData;
    ULONG MaxCalleeData;
    ULONG AdapterFlags;       /* NDK_ADAPTER_FLAG_* */
    NDK_RDMA_TECHNOLOGY RdmaTechnology;
} NDK_ADAPTER_INFO;

/* ---- the adapter and its dispatch table ------------------------------------ */
typedef struct _NDK_ADAPTER NDK_ADAPTER;

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

typedef struct _NDK_EXTENSION_INTERFACE {
    const void *Dispatch;
} NDK_EXTENSION_INTERFACE;

/* NdkQueryExtension: STATUS_NOT_SUPPORTED (no extensions exist). */
typedef NTSTATUS (SOFTROCE_NDKAPI *NDK_FN_QUERY_EXTENSION_INTERFACE)(
    NDK_OBJECT_HEADER *pNdkObject, const GUID *ExtensionInterfaceID,
    NDK_VERSION ExtensionInterfaceVersion, NDK_EXTENSION_INTERFACE *pExtensionInterface);

/* NdkQueryAdapterInfo (PASSIVE_LEVEL): NULL pBufferSize -> INVALID_PARAMETER;
 * NULL pInfo or *pBufferSize < sizeof(NDK_ADAPTER_INFO) -> BUFFER_TOO_SMALL
 * with the required size in *pBufferSize; else SUCCESS. */
typedef NTSTATUS (SOFTROCE_NDKAPI *NDK_FN_QUERY_ADAPTER_INFO)(
    NDK_ADAPTER *pNdkAdapter, NDK_ADAPTER_INFO *pInfo, ULONG *pBufferSize);

/* All nine entries in ABI order. The entries a C caller of this header does
 * not use are left untyped (their NDKPI signatures are in src/abi/callbacks.rs);
 * so far they answer STATUS_NOT_IMPLEMENTED. */
typedef struct _NDK_ADAPTER_DISPATCH {
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NDK_FN_QUERY_ADAPTER_INFO NdkQueryAdapterInfo;
    void *NdkCreateCq;
    void *NdkCreatePd;
    void *NdkCreateSharedEndpoint;
    void *NdkCreateConnector;
    void *NdkCreateListener;
    void *NdkBuildLAM;
    void *NdkReleaseLAM;
} NDK_ADAPTER_DISPATCH;

struct _NDK_ADAPTER {
    NDK_OBJECT_HEADER Header;
    const NDK_ADAPTER_DISPATCH *Dispatch;
};

/* ---- entry points (the hosted OPEN/CLOSE_NDK_ADAPTER_HANDLER) -------------- */

/* Opens an adapter instance bound to an IPv4 or IPv6 literal. `requested` is
 * the Major the caller speaks and the lowest Minor it can use: only Major 2
 * with Minor <= 1 is accepted, and the adapter then runs at 2.1.
 * NULL adapter/ip_address -> STATUS_INVALID_PARAMETER; bad version ->
 * NDIS_STATUS_BAD_VERSION; bad literal or unspecified/multicast/broadcast
 * address -> STATUS_INVALID_ADDRESS; no memory -> STATUS_INSUFFICIENT_RESOURCES.
 * *adapter is NULL on any failure. PASSIVE_LEVEL. */
NTSTATUS softroce_open_adapter(const char *ip_address, NDK_VERSION requested,
                               NDK_ADAPTER **adapter);

/* Closes an adapter from softroce_open_adapter. Blocking: when it returns no
 * callback on the adapter or its children runs. NULL is ignored. */
void softroce_close_adapter(NDK_ADAPTER *adapter);

/* The provider's highest NDK version: {2, 1}. */
NDK_VERSION softroce_version(void);

/* "STATUS_BUFFER_TOO_SMALL" etc.; NULL for an unknown value. Static string. */
const char *softroce_status_name(NTSTATUS status);

#ifdef __cplusplus
}
#endif

#endif /* SOFTROCE_H */
