/*
 * The C twin of tests/hosted_open.rs: a C consumer of softroce.h that opens
 * two hosted adapters, queries their info through (*adapter)->Dispatch,
 * checks it, checks version refusal, and closes them. Prints "layout" and
 * "info" lines for tests/hosted_open_c.rs to compare with the Rust side, and
 * "PASS" last. Exit status 0 only if every check held.
 */
#include "softroce.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

/* ---- layout: x64 numbers from the NDKPI facts (src/abi asserts the same) -- */
#if defined(__x86_64__) || defined(_M_X64) || defined(__aarch64__)
_Static_assert(sizeof(NDK_VERSION) == 4, "NDK_VERSION");
_Static_assert(offsetof(NDK_VERSION, Minor) == 2, "NDK_VERSION.Minor");
_Static_assert(sizeof(NDK_OBJECT_TYPE) == 4, "NDK_OBJECT_TYPE");
_Static_assert(sizeof(NDK_OBJECT_HEADER_RESERVED_BLOCK) == 0x20, "reserved block");
_Static_assert(offsetof(NDK_OBJECT_HEADER, Version) == 0x00, "Header.Version");
_Static_assert(offsetof(NDK_OBJECT_HEADER, ObjectType) == 0x04, "Header.ObjectType");
_Static_assert(offsetof(NDK_OBJECT_HEADER, NdkReserved) == 0x08, "Header.NdkReserved");
_Static_assert(sizeof(NDK_OBJECT_HEADER) == 0x28, "NDK_OBJECT_HEADER");
_Static_assert(offsetof(NDK_ADAPTER, Header) == 0x00, "NDK_ADAPTER.Header");
_Static_assert(offsetof(NDK_ADAPTER, Dispatch) == 0x28, "NDK_ADAPTER.Dispatch");
_Static_assert(sizeof(NDK_ADAPTER) == 0x30, "NDK_ADAPTER");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkQueryExtension) == 0x00, "QueryExtension");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkQueryAdapterInfo) == 0x08, "QueryAdapterInfo");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkCreateCq) == 0x10, "CreateCq");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkCreatePd) == 0x18, "CreatePd");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkCreateSharedEndpoint) == 0x20, "CreateSE");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkCreateConnector) == 0x28, "CreateConnector");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkCreateListener) == 0x30, "CreateListener");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkBuildLAM) == 0x38, "BuildLAM");
_Static_assert(offsetof(NDK_ADAPTER_DISPATCH, NdkReleaseLAM) == 0x40, "ReleaseLAM");
_Static_assert(sizeof(NDK_ADAPTER_DISPATCH) == 0x48, "NDK_ADAPTER_DISPATCH");
_Static_assert(sizeof(NDK_RDMA_TECHNOLOGY) == 4, "NDK_RDMA_TECHNOLOGY");
_Static_assert(offsetof(NDK_ADAPTER_INFO, Version) == 0x00, "Version");
_Static_assert(offsetof(NDK_ADAPTER_INFO, VendorId) == 0x04, "VendorId");
_Static_assert(offsetof(NDK_ADAPTER_INFO, DeviceId) == 0x08, "DeviceId");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxRegistrationSize) == 0x10, "MaxRegistrationSize");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxWindowSize) == 0x18, "MaxWindowSize");
_Static_assert(offsetof(NDK_ADAPTER_INFO, FRMRPageCount) == 0x20, "FRMRPageCount");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxInitiatorRequestSge) == 0x24, "MaxInitiatorRequestSge");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxReceiveRequestSge) == 0x28, "MaxReceiveRequestSge");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxReadRequestSge) == 0x2C, "MaxReadRequestSge");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxTransferLength) == 0x30, "MaxTransferLength");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxInlineDataSize) == 0x34, "MaxInlineDataSize");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxInboundReadLimit) == 0x38, "MaxInboundReadLimit");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxOutboundReadLimit) == 0x3C, "MaxOutboundReadLimit");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxReceiveQueueDepth) == 0x40, "MaxReceiveQueueDepth");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxInitiatorQueueDepth) == 0x44, "MaxInitiatorQueueDepth");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxSrqDepth) == 0x48, "MaxSrqDepth");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxCqDepth) == 0x4C, "MaxCqDepth");
_Static_assert(offsetof(NDK_ADAPTER_INFO, LargeRequestThreshold) == 0x50, "LargeRequestThreshold");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxCallerData) == 0x54, "MaxCallerData");
_Static_assert(offsetof(NDK_ADAPTER_INFO, MaxCalleeData) == 0x58, "MaxCalleeData");
_Static_assert(offsetof(NDK_ADAPTER_INFO, AdapterFlags) == 0x5C, "AdapterFlags");
_Static_assert(offsetof(NDK_ADAPTER_INFO, RdmaTechnology) == 0x60, "RdmaTechnology");
_Static_assert(sizeof(NDK_ADAPTER_INFO) == 0x68, "NDK_ADAPTER_INFO");
#else
#error "layout checks are written for 64-bit targets"
#endif

/* The flags HOSTED-API.md documents, no more and no fewer. */
#define DOCUMENTED_FLAGS                                                         \
    (NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED |                                   \
     NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED |                              \
     NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED |                     \
     NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED |                                      \
     NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED)

static NDK_VERSION version(USHORT major, USHORT minor) {
    NDK_VERSION v;
    v.Major = major;
    v.Minor = minor;
    return v;
}

static void print_layout(void) {
    printf("layout NDK_VERSION %zu\n", sizeof(NDK_VERSION));
    printf("layout NDK_OBJECT_HEADER %zu\n", sizeof(NDK_OBJECT_HEADER));
    printf("layout NDK_ADAPTER %zu\n", sizeof(NDK_ADAPTER));
    printf("layout NDK_ADAPTER_DISPATCH %zu\n", sizeof(NDK_ADAPTER_DISPATCH));
    printf("layout NDK_ADAPTER_INFO %zu\n", sizeof(NDK_ADAPTER_INFO));
    printf("layout NDK_EXTENSION_INTERFACE %zu\n", sizeof(NDK_EXTENSION_INTERFACE));
    printf("layout GUID %zu\n", sizeof(GUID));
}

static void print_info(const char *ip, const NDK_ADAPTER_INFO *i) {
    printf("info %s Version=%u.%u VendorId=%u DeviceId=%u MaxRegistrationSize=%zu "
           "MaxWindowSize=%zu FRMRPageCount=%u MaxInitiatorRequestSge=%u "
           "MaxReceiveRequestSge=%u MaxReadRequestSge=%u MaxTransferLength=%u "
           "MaxInlineDataSize=%u MaxInboundReadLimit=%u MaxOutboundReadLimit=%u "
           "MaxReceiveQueueDepth=%u MaxInitiatorQueueDepth=%u MaxSrqDepth=%u "
           "MaxCqDepth=%u LargeRequestThreshold=%u MaxCallerData=%u MaxCalleeData=%u "
           "AdapterFlags=%u RdmaTechnology=%u\n",
           ip, i->Version.Major, i->Version.Minor, i->VendorId, i->DeviceId,
           i->MaxRegistrationSize, i->MaxWindowSize, i->FRMRPageCount,
           i->MaxInitiatorRequestSge, i->MaxReceiveRequestSge, i->MaxReadRequestSge,
           i->MaxTransferLength, i->MaxInlineDataSize, i->MaxInboundReadLimit,
           i->MaxOutboundReadLimit, i->MaxReceiveQueueDepth, i->MaxInitiatorQueueDepth,
           i->MaxSrqDepth, i->MaxCqDepth, i->LargeRequestThreshold, i->MaxCallerData,
           i->MaxCalleeData, i->AdapterFlags, (unsigned)i->RdmaTechnology);
}

static void check_header(NDK_ADAPTER *a) {
    int k;
    CHECK(a->Header.Version.Major == 2 && a->Header.Version.Minor == 1);
    CHECK(a->Header.ObjectType == NdkObjectTypeAdapter);
    for (k = 0; k < 4; k++)
        CHECK(a->Header.NdkReserved.rf[k] == NULL);
    CHECK(a->Dispatch != NULL);
    CHECK(a->Dispatch->NdkQueryExtension != NULL && a->Dispatch->NdkQueryAdapterInfo != NULL);
    CHECK(a->Dispatch->NdkCreateCq && a->Dispatch->NdkCreatePd &&
          a->Dispatch->NdkCreateSharedEndpoint && a->Dispatch->NdkCreateConnector &&
          a->Dispatch->NdkCreateListener && a->Dispatch->NdkBuildLAM &&
          a->Dispatch->NdkReleaseLAM);
}

static void check_info(const NDK_ADAPTER_INFO *i) {
    CHECK(i->Version.Major == 2 && i->Version.Minor == 1);
    CHECK(i->RdmaTechnology == NdkRoCEv2);
    CHECK(i->AdapterFlags == DOCUMENTED_FLAGS);
    CHECK(i->MaxRegistrationSize > 0 && i->MaxWindowSize > 0);
    CHECK(i->MaxWindowSize <= i->MaxRegistrationSize);
    CHECK(i->FRMRPageCount >= 16);
    CHECK((SIZE_T)i->FRMRPageCount * 4096u <= i->MaxRegistrationSize);
    CHECK(i->MaxInitiatorRequestSge > 0 && i->MaxReceiveRequestSge > 0 && i->MaxReadRequestSge > 0);
    CHECK(i->MaxTransferLength > 0 && i->MaxTransferLength <= i->MaxRegistrationSize);
    CHECK(i->MaxInlineDataSize > 0 && i->MaxInlineDataSize <= i->MaxTransferLength);
    CHECK(i->MaxInboundReadLimit > 0 && i->MaxInboundReadLimit <= 255);
    CHECK(i->MaxOutboundReadLimit > 0 && i->MaxOutboundReadLimit <= 255);
    CHECK(i->MaxReceiveQueueDepth > 0 && i->MaxInitiatorQueueDepth > 0);
    CHECK(i->MaxSrqDepth > 0); /* SRQ is documented as supported */
    CHECK(i->MaxCqDepth >= i->MaxReceiveQueueDepth && i->MaxCqDepth >= i->MaxInitiatorQueueDepth);
    CHECK(i->LargeRequestThreshold > 0 && i->LargeRequestThreshold <= i->MaxTransferLength);
    CHECK(i->MaxCallerData == 56);
    CHECK(i->MaxCalleeData == 148);
}

static void exercise(const char *ip, NDK_VERSION requested, NDK_ADAPTER **out) {
    NDK_ADAPTER *a = (NDK_ADAPTER *)0x1;
    NDK_ADAPTER_INFO info;
    unsigned char big[sizeof(NDK_ADAPTER_INFO) + 16];
    ULONG size;
    size_t k;
    GUID guid;
    NDK_EXTENSION_INTERFACE ext;

    *out = NULL;
    CHECK_STATUS(softroce_open_adapter(ip, requested, &a), STATUS_SUCCESS);
    if (a == NULL || a == (NDK_ADAPTER *)0x1) {
        printf("FAIL: no adapter for %s\n", ip);
        failures++;
        return;
    }
    *out = a;
    check_header(a);

    /* size query: NULL info, size 0 */
    size = 0;
    CHECK_STATUS(a->Dispatch->NdkQueryAdapterInfo(a, NULL, &size), STATUS_BUFFER_TOO_SMALL);
    CHECK(size == sizeof(NDK_ADAPTER_INFO));
    /* NULL BufferSize */
    CHECK_STATUS(a->Dispatch->NdkQueryAdapterInfo(a, &info, NULL), STATUS_INVALID_PARAMETER);
    /* one byte short: untouched */
    memset(&info, 0xAB, sizeof info);
    size = (ULONG)sizeof(NDK_ADAPTER_INFO) - 1;
    CHECK_STATUS(a->Dispatch->NdkQueryAdapterInfo(a, &info, &size), STATUS_BUFFER_TOO_SMALL);
    CHECK(size == sizeof(NDK_ADAPTER_INFO));
    for (k = 0; k < sizeof info; k++)
        CHECK(((unsigned char *)&info)[k] == 0xAB);
    /* exact size */
    size = (ULONG)sizeof info;
    CHECK_STATUS(a->Dispatch->NdkQueryAdapterInfo(a, &info, &size), STATUS_SUCCESS);
    CHECK(size == sizeof(NDK_ADAPTER_INFO));
    check_info(&info);
    print_info(ip, &info);
    /* larger buffer: same answer, tail untouched */
    memset(big, 0xCD, sizeof big);
    size = (ULONG)sizeof big;
    CHECK_STATUS(a->Dispatch->NdkQueryAdapterInfo(a, (NDK_ADAPTER_INFO *)(void *)big, &size),
                 STATUS_SUCCESS);
    CHECK(size == sizeof(NDK_ADAPTER_INFO));
    CHECK(memcmp(big, &info, offsetof(NDK_ADAPTER_INFO, RdmaTechnology) + 4) == 0);
    for (k = sizeof(NDK_ADAPTER_INFO); k < sizeof big; k++)
        CHECK(big[k] == 0xCD);
    /* no extensions */
    memset(&guid, 0x11, sizeof guid);
    ext.Dispatch = &ext;
    CHECK_STATUS(a->Dispatch->NdkQueryExtension(&a->Header, &guid, version(2, 1), &ext),
                 STATUS_NOT_SUPPORTED);
    CHECK(ext.Dispatch == &ext);
    CHECK_STATUS(a->Dispatch->NdkQueryExtension(&a->Header, &guid, version(2, 1), NULL),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(a->Dispatch->NdkQueryExtension(&a->Header, NULL, version(2, 1), &ext),
                 STATUS_INVALID_PARAMETER);
}

static void refuse(const char *ip, NDK_VERSION v, NTSTATUS want) {
    NDK_ADAPTER *a = (NDK_ADAPTER *)0x1;
    CHECK_STATUS(softroce_open_adapter(ip, v, &a), want);
    CHECK(a == NULL);
}

int main(void) {
    NDK_ADAPTER *a4 = NULL, *a6 = NULL;
    NDK_VERSION ours = softroce_version();

    print_layout();
    CHECK(ours.Major == 2 && ours.Minor == 1);
    CHECK(strcmp(status_name(STATUS_BUFFER_TOO_SMALL), "STATUS_BUFFER_TOO_SMALL") == 0);
    CHECK(softroce_status_name((NTSTATUS)0x12345678) == NULL);

    exercise("127.0.0.1", version(2, 1), &a4);
    exercise("::1", version(2, 0), &a6);
    CHECK(a4 != NULL && a6 != NULL && a4 != a6);

    /* version negotiation */
    refuse("127.0.0.1", version(1, 0), NDIS_STATUS_BAD_VERSION);
    refuse("127.0.0.1", version(1, 2), NDIS_STATUS_BAD_VERSION);
    refuse("127.0.0.1", version(3, 0), NDIS_STATUS_BAD_VERSION);
    refuse("127.0.0.1", version(2, 2), NDIS_STATUS_BAD_VERSION);
    refuse("not-an-ip", version(1, 0), NDIS_STATUS_BAD_VERSION); /* version first */
    /* addresses and pointers */
    refuse(NULL, version(2, 1), STATUS_INVALID_PARAMETER);
    refuse("not-an-ip", version(2, 1), STATUS_INVALID_ADDRESS);
    refuse("127.0.0.1:4791", version(2, 1), STATUS_INVALID_ADDRESS);
    refuse("0.0.0.0", version(2, 1), STATUS_INVALID_ADDRESS);
    refuse("::", version(2, 1), STATUS_INVALID_ADDRESS);
    refuse("224.0.0.1", version(2, 1), STATUS_INVALID_ADDRESS);
    CHECK_STATUS(softroce_open_adapter("127.0.0.1", version(2, 1), NULL), STATUS_INVALID_PARAMETER);

    softroce_close_adapter(a4);
    softroce_close_adapter(a6);
    softroce_close_adapter(NULL);

    return check_report();
}
