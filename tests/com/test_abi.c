/*
 * The ABI is the product (DESIGN rule 4): every method's vtable slot and every
 * struct's size, as the spec's tables give them (spec 3.1-3.18, 4.1), checked
 * against the header widl generates from idl/DeliveryOptimization.idl.
 */
#define COBJMACROS
#include <windows.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "DeliveryOptimization.h"

#define SLOT(vtbl, method) (offsetof(vtbl, method) / sizeof(void *))
#define assert_slot(vtbl, method, n) assert_int_equal(SLOT(vtbl, method), n)

static void test_iunknown_slots_come_first(void **state)
{
    assert_slot(IBackgroundCopyJob5Vtbl, QueryInterface, 0);
    assert_slot(IBackgroundCopyJob5Vtbl, AddRef, 1);
    assert_slot(IBackgroundCopyJob5Vtbl, Release, 2);
}

/* spec 3.1 */
static void test_background_copy_manager_slots(void **state)
{
    assert_slot(IBackgroundCopyManagerVtbl, CreateJob, 3);
    assert_slot(IBackgroundCopyManagerVtbl, GetJob, 4);
    assert_slot(IBackgroundCopyManagerVtbl, EnumJobs, 5);
    assert_slot(IBackgroundCopyManagerVtbl, GetErrorDescription, 6);
    assert_int_equal(sizeof(IBackgroundCopyManagerVtbl) / sizeof(void *), 7);
}

/* spec 3.2: 32 methods after IUnknown, classic order */
static void test_background_copy_job_slots(void **state)
{
    assert_slot(IBackgroundCopyJob5Vtbl, AddFileSet, 3);
    assert_slot(IBackgroundCopyJob5Vtbl, AddFile, 4);
    assert_slot(IBackgroundCopyJob5Vtbl, EnumFiles, 5);
    assert_slot(IBackgroundCopyJob5Vtbl, Suspend, 6);
    assert_slot(IBackgroundCopyJob5Vtbl, Resume, 7);
    assert_slot(IBackgroundCopyJob5Vtbl, Cancel, 8);
    assert_slot(IBackgroundCopyJob5Vtbl, Complete, 9);
    assert_slot(IBackgroundCopyJob5Vtbl, GetId, 10);
    assert_slot(IBackgroundCopyJob5Vtbl, GetType, 11);
    assert_slot(IBackgroundCopyJob5Vtbl, GetProgress, 12);
    assert_slot(IBackgroundCopyJob5Vtbl, GetTimes, 13);
    assert_slot(IBackgroundCopyJob5Vtbl, GetState, 14);
    assert_slot(IBackgroundCopyJob5Vtbl, GetError, 15);
    assert_slot(IBackgroundCopyJob5Vtbl, GetOwner, 16);
    assert_slot(IBackgroundCopyJob5Vtbl, SetDisplayName, 17);
    assert_slot(IBackgroundCopyJob5Vtbl, GetDisplayName, 18);
    assert_slot(IBackgroundCopyJob5Vtbl, SetDescription, 19);
    assert_slot(IBackgroundCopyJob5Vtbl, GetDescription, 20);
    assert_slot(IBackgroundCopyJob5Vtbl, SetPriority, 21);
    assert_slot(IBackgroundCopyJob5Vtbl, GetPriority, 22);
    assert_slot(IBackgroundCopyJob5Vtbl, SetNotifyFlags, 23);
    assert_slot(IBackgroundCopyJob5Vtbl, GetNotifyFlags, 24);
    assert_slot(IBackgroundCopyJob5Vtbl, SetNotifyInterface, 25);
    assert_slot(IBackgroundCopyJob5Vtbl, GetNotifyInterface, 26);
    assert_slot(IBackgroundCopyJob5Vtbl, SetMinimumRetryDelay, 27);
    assert_slot(IBackgroundCopyJob5Vtbl, GetMinimumRetryDelay, 28);
    assert_slot(IBackgroundCopyJob5Vtbl, SetNoProgressTimeout, 29);
    assert_slot(IBackgroundCopyJob5Vtbl, GetNoProgressTimeout, 30);
    assert_slot(IBackgroundCopyJob5Vtbl, GetErrorCount, 31);
    assert_slot(IBackgroundCopyJob5Vtbl, SetProxySettings, 32);
    assert_slot(IBackgroundCopyJob5Vtbl, GetProxySettings, 33);
    assert_slot(IBackgroundCopyJob5Vtbl, TakeOwnership, 34);
    assert_int_equal(sizeof(IBackgroundCopyJobVtbl) / sizeof(void *), 35);
}

/* spec 3.3: Job2 35-42, Job3 43-46, Job4 47-52 */
static void test_background_copy_job2_to_job4_slots(void **state)
{
    assert_slot(IBackgroundCopyJob5Vtbl, SetNotifyCmdLine, 35);
    assert_slot(IBackgroundCopyJob5Vtbl, GetNotifyCmdLine, 36);
    assert_slot(IBackgroundCopyJob5Vtbl, GetReplyProgress, 37);
    assert_slot(IBackgroundCopyJob5Vtbl, GetReplyData, 38);
    assert_slot(IBackgroundCopyJob5Vtbl, SetReplyFileName, 39);
    assert_slot(IBackgroundCopyJob5Vtbl, GetReplyFileName, 40);
    assert_slot(IBackgroundCopyJob5Vtbl, SetCredentials, 41);
    assert_slot(IBackgroundCopyJob5Vtbl, RemoveCredentials, 42);
    assert_slot(IBackgroundCopyJob5Vtbl, ReplaceRemotePrefix, 43);
    assert_slot(IBackgroundCopyJob5Vtbl, AddFileWithRanges, 44);
    assert_slot(IBackgroundCopyJob5Vtbl, SetFileACLFlags, 45);
    assert_slot(IBackgroundCopyJob5Vtbl, GetFileACLFlags, 46);
    assert_slot(IBackgroundCopyJob5Vtbl, SetPeerCachingFlags, 47);
    assert_slot(IBackgroundCopyJob5Vtbl, GetPeerCachingFlags, 48);
    assert_slot(IBackgroundCopyJob5Vtbl, GetOwnerIntegrityLevel, 49);
    assert_slot(IBackgroundCopyJob5Vtbl, GetOwnerElevationState, 50);
    assert_slot(IBackgroundCopyJob5Vtbl, SetMaximumDownloadTime, 51);
    assert_slot(IBackgroundCopyJob5Vtbl, GetMaximumDownloadTime, 52);
}

/* spec 3.4: Set before Get, the classic order */
static void test_background_copy_job5_slots(void **state)
{
    assert_slot(IBackgroundCopyJob5Vtbl, SetProperty, 53);
    assert_slot(IBackgroundCopyJob5Vtbl, GetProperty, 54);
    assert_int_equal(sizeof(IBackgroundCopyJob5Vtbl) / sizeof(void *), 55);
}

/* spec 3.5-3.8 */
static void test_background_copy_file_slots(void **state)
{
    assert_slot(IBackgroundCopyFile5Vtbl, GetRemoteName, 3);
    assert_slot(IBackgroundCopyFile5Vtbl, GetLocalName, 4);
    assert_slot(IBackgroundCopyFile5Vtbl, GetProgress, 5);
    assert_slot(IBackgroundCopyFile5Vtbl, GetFileRanges, 6);
    assert_slot(IBackgroundCopyFile5Vtbl, SetRemoteName, 7);
    assert_slot(IBackgroundCopyFile5Vtbl, GetTemporaryName, 8);
    assert_slot(IBackgroundCopyFile5Vtbl, SetValidationState, 9);
    assert_slot(IBackgroundCopyFile5Vtbl, GetValidationState, 10);
    assert_slot(IBackgroundCopyFile5Vtbl, IsDownloadedFromPeer, 11);
    assert_slot(IBackgroundCopyFile5Vtbl, GetPeerDownloadStats, 12);
    assert_slot(IBackgroundCopyFile5Vtbl, SetProperty, 13);
    assert_slot(IBackgroundCopyFile5Vtbl, GetProperty, 14);
    assert_int_equal(sizeof(IBackgroundCopyFile5Vtbl) / sizeof(void *), 15);
}

/* spec 3.9 */
static void test_enumerator_slots(void **state)
{
    assert_slot(IEnumBackgroundCopyFilesVtbl, Next, 3);
    assert_slot(IEnumBackgroundCopyFilesVtbl, Skip, 4);
    assert_slot(IEnumBackgroundCopyFilesVtbl, Reset, 5);
    assert_slot(IEnumBackgroundCopyFilesVtbl, Clone, 6);
    assert_slot(IEnumBackgroundCopyFilesVtbl, GetCount, 7);
    assert_slot(IEnumBackgroundCopyJobsVtbl, Next, 3);
    assert_slot(IEnumBackgroundCopyJobsVtbl, Skip, 4);
    assert_slot(IEnumBackgroundCopyJobsVtbl, Reset, 5);
    assert_slot(IEnumBackgroundCopyJobsVtbl, Clone, 6);
    assert_slot(IEnumBackgroundCopyJobsVtbl, GetCount, 7);
}

/* spec 3.10 */
static void test_background_copy_error_slots(void **state)
{
    assert_slot(IBackgroundCopyErrorVtbl, GetError, 3);
    assert_slot(IBackgroundCopyErrorVtbl, GetFile, 4);
    assert_slot(IBackgroundCopyErrorVtbl, GetErrorDescription, 5);
    assert_slot(IBackgroundCopyErrorVtbl, GetErrorContextDescription, 6);
    assert_slot(IBackgroundCopyErrorVtbl, GetProtocol, 7);
}

/* spec 3.11: JobTransferred, JobError, JobModification; then FileTransferred, FileRangesTransferred */
static void test_background_copy_callback_slots(void **state)
{
    assert_slot(IBackgroundCopyCallback3Vtbl, JobTransferred, 3);
    assert_slot(IBackgroundCopyCallback3Vtbl, JobError, 4);
    assert_slot(IBackgroundCopyCallback3Vtbl, JobModification, 5);
    assert_slot(IBackgroundCopyCallback3Vtbl, FileTransferred, 6);
    assert_slot(IBackgroundCopyCallback3Vtbl, FileRangesTransferred, 7);
}

static void test_http_options_slots(void **state)
{
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, SetClientCertificateByID, 3);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, SetClientCertificateByName, 4);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, RemoveClientCertificate, 5);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, GetClientCertificate, 6);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, SetCustomHeaders, 7);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, GetCustomHeaders, 8);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, SetSecurityFlags, 9);
    assert_slot(IBackgroundCopyJobHttpOptionsVtbl, GetSecurityFlags, 10);
}

/* spec 3.12-3.15: the DO-only interfaces, in the documented order where none is published */
static void test_delivery_optimization_job_and_file_slots(void **state)
{
    assert_slot(IDeliveryOptimizationJobVtbl, AddFileWithRanges, 3);
    assert_slot(IDeliveryOptimizationJob2Vtbl, AddFile, 3);
    assert_slot(IDeliveryOptimizationJob2Vtbl, GetProperty, 4);
    assert_slot(IDeliveryOptimizationJob2Vtbl, SetProperty, 5);
    assert_slot(IDeliveryOptimizationFileVtbl, GetStats, 3);
    assert_slot(IDeliveryOptimizationFile2Vtbl, GetProperty, 3);
    assert_slot(IDeliveryOptimizationFile2Vtbl, SetProperty, 4);
}

/* spec 3.16-3.18 */
static void test_ido_slots(void **state)
{
    assert_slot(IDOManagerVtbl, CreateDownload, 3);
    assert_slot(IDOManagerVtbl, EnumDownloads, 4);
    assert_slot(IDODownloadVtbl, Start, 3);
    assert_slot(IDODownloadVtbl, Pause, 4);
    assert_slot(IDODownloadVtbl, Abort, 5);
    assert_slot(IDODownloadVtbl, Finalize, 6);
    assert_slot(IDODownloadVtbl, GetStatus, 7);
    assert_slot(IDODownloadVtbl, GetProperty, 8);
    assert_slot(IDODownloadVtbl, SetProperty, 9);
    assert_slot(IDODownloadStatusCallbackVtbl, OnStatusChange, 3);
}

/* spec 4.1 */
static void test_bits_struct_sizes(void **state)
{
    assert_int_equal(sizeof(BG_FILE_INFO), 16);
    assert_int_equal(sizeof(BG_FILE_PROGRESS), 24);
    assert_int_equal(sizeof(BG_JOB_PROGRESS), 24);
    assert_int_equal(sizeof(BG_JOB_TIMES), 24);
    assert_int_equal(sizeof(BG_FILE_RANGE), 16);
    assert_int_equal(sizeof(BG_JOB_REPLY_PROGRESS), 16);
    assert_int_equal(sizeof(BITS_JOB_PROPERTY_VALUE), 16);
    assert_int_equal(_Alignof(BITS_JOB_PROPERTY_VALUE), 8);
    assert_int_equal(sizeof(BITS_FILE_PROPERTY_VALUE), sizeof(void *));
}

static void test_do_struct_sizes(void **state)
{
    assert_int_equal(sizeof(DO_DOWNLOAD_RANGE), 16);
    assert_int_equal(offsetof(DO_DOWNLOAD_RANGES_INFO, Ranges), 8);
    assert_int_equal(sizeof(DO_DOWNLOAD_RANGES_INFO), 24);
    assert_int_equal(sizeof(DO_DOWNLOAD_STATUS), 32);
    assert_int_equal(offsetof(DO_DOWNLOAD_STATUS, State), 16);
    assert_int_equal(offsetof(DO_DOWNLOAD_STATUS, Error), 20);
    assert_int_equal(offsetof(DO_DOWNLOAD_STATUS, ExtendedError), 24);
    assert_int_equal(sizeof(DO_DOWNLOAD_ENUM_CATEGORY), 16);
    assert_int_equal(offsetof(DOSwarmStats, fileSize), 16);
    assert_int_equal(offsetof(DOSwarmStats, httpConnectionCount), 96);
    assert_int_equal(offsetof(DOSwarmStats, isBackground), 128);
    assert_int_equal(sizeof(DOSwarmStats), 136);
}

static void test_enum_values_match_spec(void **state)
{
    assert_int_equal(BG_JOB_STATE_CANCELLED, 8);
    assert_int_equal(DODownloadState_Paused, 5);
    assert_int_equal(DODownloadCostPolicy_NoCellular, 5);
    assert_int_equal(DODownloadProperty_TotalSizeBytes, 21);
    assert_int_equal(DODownloadProperty_NonVolatile, 25);
    assert_int_equal(DODownloadProperty_HttpStatusCode, 29);
    assert_int_equal(DOFilePropertyId_TotalSizeBytes, 6);
    assert_int_equal(DownloadMode_Bypass, 100);
    assert_int_equal(SwarmStatus_Paused, 3);
    assert_true(DO_LENGTH_TO_EOF == (UINT64)-1);
    assert_true(DO_UNKNOWN_FILE_SIZE == (UINT64)-1);
}

static void assert_guid(const GUID *guid, const WCHAR *text)
{
    WCHAR buffer[40];
    assert_int_equal(StringFromGUID2(guid, buffer, 40), 39);
    assert_int_equal(lstrcmpiW(buffer, text), 0);
}

/* spec 2.1, 3.x: the GUIDs clients compile in */
static void test_guids_match_spec(void **state)
{
    assert_guid(&CLSID_DeliveryOptimization, L"{5b99fa76-721c-423c-adac-56d03c8a8007}");
    assert_guid(&LIBID_DeliveryOptimization, L"{6a1fae95-21b8-46c4-a0c9-5d5fae106ef0}");
    assert_guid(&IID_IDOManager, L"{400E2D4A-1431-4C1A-A748-39CA472CFDB1}");
    assert_guid(&IID_IDODownload, L"{FBBD7FC0-C147-4727-A38D-827EF071EE77}");
    assert_guid(&IID_IDODownloadStatusCallback, L"{D166E8E3-A90E-4392-8E87-05E996D3747D}");
    assert_guid(&IID_IDeliveryOptimizationJob, L"{EE2584CF-A69C-4848-B633-2649962B3EF7}");
    assert_guid(&IID_IDeliveryOptimizationJob2, L"{18995A26-BF59-4ABE-9F8B-D5092D5A2405}");
    assert_guid(&IID_IDeliveryOptimizationFile, L"{B76B9699-E99E-4101-803F-A20E325D93E2}");
    assert_guid(&IID_IDeliveryOptimizationFile2, L"{3A87296F-6EC2-4126-AB29-E3F8DC4CC390}");
    assert_guid(&IID_IBackgroundCopyManager, L"{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}");
    assert_guid(&IID_IBackgroundCopyJob, L"{37668D37-507E-4160-9316-26306D150B12}");
    assert_guid(&IID_IBackgroundCopyJob5, L"{E847030C-BBBA-4657-AF6D-484AA42BF1FE}");
    assert_guid(&IID_IBackgroundCopyFile, L"{01B7BD23-FB88-4A77-8490-5891D3E4653A}");
    assert_guid(&IID_IBackgroundCopyFile2, L"{83E81B93-0873-474D-8A8C-F2018B1A939C}");
    assert_guid(&IID_IBackgroundCopyFile3, L"{659cdeaa-489e-11d9-a9cd-000d56965251}");
    assert_guid(&IID_IBackgroundCopyFile4, L"{ef7e0655-7888-4960-b0e5-730846e03492}");
    assert_guid(&IID_IBackgroundCopyFile5, L"{85C1657F-DAFC-40E8-8834-DF18EA25717E}");
    assert_guid(&IID_IEnumBackgroundCopyFiles, L"{CA51E165-C365-424C-8D41-24AAA4FF3C40}");
    assert_guid(&IID_IEnumBackgroundCopyJobs, L"{1af4f612-3b71-466f-8f58-7b6f73ac57ad}");
    assert_guid(&IID_IBackgroundCopyError, L"{19C613A0-FCB8-4F28-81AE-897C3D078F81}");
    assert_guid(&IID_IBackgroundCopyCallback, L"{97EA99C7-0186-4AD4-8DF9-C5B4E0ED6B22}");
    assert_guid(&IID_IBackgroundCopyCallback3, L"{98c97bd2-e32b-4ad8-a528-95fd8b16bd42}");
}

/* spec 6.2: a few codes clients branch on */
static void test_error_codes_match_spec(void **state)
{
    assert_int_equal((unsigned)DO_E_JOB_NOT_FOUND, 0x80D02003u);
    assert_int_equal((unsigned)DO_E_JOB_EMPTY, 0x80D02004u);
    assert_int_equal((unsigned)DO_E_INVALID_STATE, 0x80D02013u);
    assert_int_equal((unsigned)DO_E_OVERLAPPING_RANGES, 0x80D05012u);
    assert_int_equal((unsigned)DO_E_UNEXPECTED_HTTP_STATUS_2XX, 0x80D0380Du);
    assert_int_equal((unsigned)DO_E_METAINFO_FILE_SIZE, 0x80D06822u);
    assert_true(IS_DO_TRANSIENT_ERROR(DO_E_BLOCKED_BY_NO_NETWORK));
    assert_false(IS_DO_TRANSIENT_ERROR(DO_E_INVALID_STATE));
    assert_int_equal((unsigned)E_NOT_SET, 0x80070490u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iunknown_slots_come_first),
        cmocka_unit_test(test_background_copy_manager_slots),
        cmocka_unit_test(test_background_copy_job_slots),
        cmocka_unit_test(test_background_copy_job2_to_job4_slots),
        cmocka_unit_test(test_background_copy_job5_slots),
        cmocka_unit_test(test_background_copy_file_slots),
        cmocka_unit_test(test_enumerator_slots),
        cmocka_unit_test(test_background_copy_error_slots),
        cmocka_unit_test(test_background_copy_callback_slots),
        cmocka_unit_test(test_http_options_slots),
        cmocka_unit_test(test_delivery_optimization_job_and_file_slots),
        cmocka_unit_test(test_ido_slots),
        cmocka_unit_test(test_bits_struct_sizes),
        cmocka_unit_test(test_do_struct_sizes),
        cmocka_unit_test(test_enum_values_match_spec),
        cmocka_unit_test(test_guids_match_spec),
        cmocka_unit_test(test_error_codes_match_spec),
    };
    return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
