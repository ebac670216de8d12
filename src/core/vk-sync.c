/* SPDX-License-Identifier: MIT */
#include "vk-sync.h"

#include <unistd.h>

#include "log.h"
#include "vk-device.h"
#include "vk-objects.h"

#define TOPIC "vk-sync"

static VkExternalSemaphoreFeatureFlags sync_fd_features(struct cr_vk_device *dev)
{
	if (!dev->ext.external_semaphore_fd)
		return 0;
	VkPhysicalDeviceExternalSemaphoreInfo info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkExternalSemaphoreProperties props = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES,
	};
	vkGetPhysicalDeviceExternalSemaphoreProperties(dev->phys, &info, &props);
	return props.externalSemaphoreFeatures;
}

bool cr_vk_sync_can_import_sync_file(struct cr_vk_device *dev)
{
	return dev->import_semaphore_fd &&
	       (sync_fd_features(dev) & VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT);
}

bool cr_vk_sync_can_export_sync_file(struct cr_vk_device *dev)
{
	return dev->get_semaphore_fd &&
	       (sync_fd_features(dev) & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT);
}

VkSemaphore cr_vk_sync_semaphore_create(struct cr_vk_device *dev)
{
	VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
	VkSemaphore sem = VK_NULL_HANDLE;
	if (!cr_vk_check(dev, vkCreateSemaphore(dev->dev, &sci, NULL, &sem), "vkCreateSemaphore"))
		return VK_NULL_HANDLE;
	cr_vk_objects_add(CR_VK_OBJECT_SEMAPHORE, 1);
	return sem;
}

bool cr_vk_sync_import_sync_file(struct cr_vk_device *dev, VkSemaphore sem, int sync_fd)
{
	/* SYNC_FD payloads may only be imported temporarily (Vulkan spec, "Importing Semaphore
	 * Payloads"); -1 would mean "already signalled", a valid sync_file fd never is. */
	VkImportSemaphoreFdInfoKHR info = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
		.semaphore = sem,
		.flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
		.fd = sync_fd,
	};
	if (!cr_vk_check(dev, dev->import_semaphore_fd(dev->dev, &info), "vkImportSemaphoreFdKHR")) {
		close(sync_fd);
		return false;
	}
	return true;
}

VkSemaphore cr_vk_sync_semaphore_create_exportable(struct cr_vk_device *dev)
{
	VkExportSemaphoreCreateInfo export = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkSemaphoreCreateInfo sci = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
		.pNext = &export,
	};
	VkSemaphore sem = VK_NULL_HANDLE;
	if (!cr_vk_check(dev, vkCreateSemaphore(dev->dev, &sci, NULL, &sem),
			 "vkCreateSemaphore (exportable)"))
		return VK_NULL_HANDLE;
	cr_vk_objects_add(CR_VK_OBJECT_SEMAPHORE, 1);
	return sem;
}

bool cr_vk_sync_export_sync_file(struct cr_vk_device *dev, VkSemaphore sem, int *sync_fd)
{
	VkSemaphoreGetFdInfoKHR info = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
		.semaphore = sem,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	*sync_fd = -1;
	/* SYNC_FD has copy transference: the export unsignals @sem like a wait would. Vulkan
	 * allows -1 as the fd of an already signalled payload ("Exporting Semaphore Payloads"). */
	return cr_vk_check(dev, dev->get_semaphore_fd(dev->dev, &info, sync_fd),
			   "vkGetSemaphoreFdKHR");
}

void cr_vk_sync_semaphore_destroy(struct cr_vk_device *dev, VkSemaphore sem)
{
	if (!sem)
		return;
	vkDestroySemaphore(dev->dev, sem, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_SEMAPHORE, -1);
}
